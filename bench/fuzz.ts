// `npm run fuzz -- wasm2rv [--seeds N] [--first K]`: differential fuzzing of wasm2rv against V8
// on binaryen translate-to-fuzz modules (src/toolchain/wasm2rv/fuzz.ts). Prints one line per
// failing seed and `N passed, M failed`; exits non-zero on any difference.

import { fuzzWasm2rv } from '../src/toolchain/wasm2rv/fuzz.ts';

const [target, ...rest] = process.argv.slice(2);
if (target !== 'wasm2rv') {
  process.stderr.write('usage: npm run fuzz -- wasm2rv [--seeds N] [--first K]\n');
  process.exit(2);
}
const opt = (name: string, dflt: number) => {
  const i = rest.indexOf(name);
  return i >= 0 ? Number(rest[i + 1]) : dflt;
};
const seeds = opt('--seeds', 100);
const first = opt('--first', 1000);
const failed = await fuzzWasm2rv(seeds, first);
console.log(`${seeds - failed.length} passed, ${failed.length} failed`);
process.exitCode = failed.length === 0 ? 0 : 1;
