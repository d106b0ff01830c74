// Memory-manager measurement: grows 8 wasm pages (128 pages), then touches each page once
// between "go" and "end" on the debug output: 128 page faults served with fresh zeroed pages.
import { say } from '../idl/debug';

export function main(): i32 {
  const base = memory.grow(8) << 16;
  say('go\n');
  for (let a = base; a < base + (8 << 16); a += 4096) store<u32>(a, 1);
  say('end\n');
  return 0;
}
