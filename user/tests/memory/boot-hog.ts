// Booted-system memory test (manifests/memory.json): grows its linear memory one wasm page at a
// time until the memory manager refuses, touches every page it got, prints the counters.
import { MemoryClient, MemoryStatsResult } from '../../lib/gen/memory';
import { CompSlot, Err } from '../../lib/abi';
import { print, setConsoleTag } from '../../lib/console';

export function main(): i32 {
  setConsoleTag('hog');
  const mem = new MemoryClient(CompSlot.Memory);
  const st = new MemoryStatsResult();
  const first = memory.size();
  let grown = 0;
  while (memory.grow(1) >= 0) grown++;
  print('grew ' + grown.toString() + ' wasm pages, then memory.grow returned -1');
  const e = mem.grow(1, <u32>memory.size(), 65536);
  print('memory manager says ' + (e == Err.NoMemory ? 'NoMemory' : e.toString()));
  let ok = true;
  for (let a = first << 16; a < memory.size() << 16; a += 4096) store<u32>(a, a);
  for (let a = first << 16; a < memory.size() << 16; a += 4096) if (load<u32>(a) != <u32>a) ok = false;
  print('every granted page works: ' + (ok ? 'yes' : 'no'));
  mem.stats(0, st);
  print('quota ' + st.quota.toString() + ' committed ' + st.committed.toString() + ' used ' + st.used.toString() + ' memPages ' + st.memPages.toString() + ' faults ' + st.faults.toString() + ' refused ' + st.badFaults.toString());
  print('done');
  return 0;
}
