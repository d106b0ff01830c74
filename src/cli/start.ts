// `l4ts start` (what `npm start` runs): boots the default system, manifests/default.json — the
// same as `l4ts boot` without arguments (src/cli/boot.ts).

import { bootCommand } from './boot.ts';

export async function startCommand(argv: string[]): Promise<number> {
  return bootCommand(argv);
}
