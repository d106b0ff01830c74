// The manifest pipeline without the file system, for any host (Node or a browser):
// JSON syntax (json.ts), the schema (schema-check.ts against schema.ts), then the rules
// (rules.ts). validate.ts's parseManifest is this with Node's file system for the image check.

import { parseJson } from './json.ts';
import { checkSchema } from './schema-check.ts';
import { MANIFEST_SCHEMA } from './schema.ts';
import { buildManifest } from './rules.ts';
import { boardSpec, type BoardSpec } from './board.ts';
import type { Manifest } from './types.ts';

export interface PureParseOptions {
  /** Image paths are relative to this directory (absolute, "/" separators). */
  baseDir: string;
  board?: Partial<BoardSpec>;
  /** Does this file exist? null: images are not checked. */
  isFile: ((file: string) => boolean) | null;
}

/** Parse and validate manifest `text`. Throws ManifestError on the first problem. */
export function parseManifestText(text: string, opts: PureParseOptions): Manifest {
  const { value, positions } = parseJson(text);
  checkSchema(value, MANIFEST_SCHEMA, { root: MANIFEST_SCHEMA, positions });
  return buildManifest(value, positions, { baseDir: opts.baseDir, board: boardSpec(opts.board), isFile: opts.isFile });
}
