// Memory-manager test: grow linear memory one wasm page at a time until the memory manager
// refuses (memory.grow returns -1), touch every page, and show the counters; then "done".
import { MemoryClient, MemoryStatsResult } from '../../lib/gen/memory';
import { CompSlot, Err } from '../../lib/abi';
import { say } from '../idl/debug';

export function main(): i32 {
  const mem = new MemoryClient(CompSlot.Memory);
  const st = new MemoryStatsResult();
  let grown = 0;
  let last = 0;
  while (true) {
    const old = memory.grow(1);
    if (old < 0) break;
    last = old;
    grown++;
    if (grown > 100000) break;
  }
  say('grown=' + grown.toString() + ' refused=-1\n');
  // The memory manager's own answer, asked directly: NoMemory.
  const e = mem.grow(1, <u32>memory.size(), 65536);
  say('direct=' + (e == Err.NoMemory ? 'NoMemory' : e.toString()) + '\n');
  // Every granted page is really there.
  const top = memory.size() << 16;
  let touched = 0;
  for (let a = (last << 16); a < top; a += 4096) { store<u32>(a, a); touched++; }
  let ok = true;
  for (let a = (last << 16); a < top; a += 4096) if (load<u32>(a) != <u32>a) ok = false;
  say('touched=' + touched.toString() + ' ok=' + (ok ? 'yes' : 'no') + '\n');
  mem.stats(0, st);
  say('quota=' + st.quota.toString() + ' committed=' + st.committed.toString() + ' used=' + st.used.toString() + ' memPages=' + st.memPages.toString() + '\n');
  say('done\n');
  return 0;
}
