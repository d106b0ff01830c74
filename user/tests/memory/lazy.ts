// Memory-manager test: a client whose image, heap and stack are all paged in on demand.
// Prints its counters before and after using heap (memory.grow) and stack, then "done".
import { MemoryClient, MemoryStatsResult } from '../../lib/gen/memory';
import { CompSlot } from '../../lib/abi';
import { say } from '../idl/debug';

const mem = new MemoryClient(CompSlot.Memory);
const st = new MemoryStatsResult();
const initialized: i32[] = [1, 2, 3, 4, 5];

function show(what: string): void {
  const e = mem.stats(0, st);
  say(what + ': err=' + e.toString() + ' quota=' + st.quota.toString() + ' used=' + st.used.toString() + ' memPages=' + st.memPages.toString() + ' faults=' + st.faults.toString() + '\n');
}

function deep(n: i32): i32 {
  const a = new StaticArray<i32>(0);
  if (n == 0) return 1;
  // A big frame per level: locals that stay on the native stack.
  let x0 = n * 3, x1 = n * 5, x2 = n * 7, x3 = n * 11;
  const r = deep(n - 1) + x0 + x1 + x2 + x3 + a.length;
  return r;
}

export function main(): i32 {
  show('start');
  let sum = 0;
  for (let i = 0; i < initialized.length; i++) sum += initialized[i];
  say('data sum=' + sum.toString() + '\n');
  // 256 KiB of heap: memory.grow through the memory manager, pages on first touch.
  const big = new Uint8Array(256 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = <u8>(i >> 12);
  let s2 = 0;
  for (let i = 0; i < big.length; i += 4096) s2 += big[i];
  say('heap sum=' + s2.toString() + '\n');
  show('heap');
  say('deep=' + deep(3000).toString() + '\n');
  show('stack');
  say('done\n');
  return 0;
}
