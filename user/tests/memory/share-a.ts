// Memory-manager test, shared memory, side A: allocates a 4-page region from its quota
// (memory.shareAlloc: a frame capability arrives), maps it, writes a pattern, and hands the
// frame to B in a call on slot 17 (an endpoint with Grant). B adds to it; A checks.
import { MemoryClient, MemoryShareAllocResult, MemoryStatsResult } from '../../lib/gen/memory';
import { CompSlot, Method, Rights, Sys } from '../../lib/abi';
import { invoke } from '../../lib/objects';
import { sysCall } from '../../lib/syscalls';
import { setXferCaps } from '../../lib/utcb';
import { msgInfo } from '../../lib/ipc';
import { say } from '../idl/debug';

const REGION: u32 = 0x4000_0000;

export function main(): i32 {
  const mem = new MemoryClient(CompSlot.Memory);
  mem.recvSlot = 20;
  const r = new MemoryShareAllocResult();
  const e = mem.shareAlloc(4, r);
  say('A: shareAlloc=' + e.toString() + ' slot=' + r.frame.toString() + ' phys=' + (r.phys != 0 ? 'yes' : 'no') + '\n');
  say('A: bad size=' + mem.shareAlloc(3, r).toString() + '\n');
  const m = invoke(20, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  say('A: map=' + m.toString() + '\n');
  for (let i: u32 = 0; i < 4 * 1024; i++) store<u32>(REGION + i * 4, i);
  setXferCaps(20);
  const err = sysCall(17, msgInfo(1, 1, 1), 42, 0, 0, 0, 0);
  say('A: call=' + err.toString() + '\n');
  let ok = true;
  for (let i: u32 = 0; i < 4 * 1024; i++) if (load<u32>(REGION + i * 4) != i + 1000) ok = false;
  say('A: sees B=' + (ok ? 'yes' : 'no') + '\n');
  const st = new MemoryStatsResult();
  mem.stats(0, st);
  say('A: shared=' + st.shared.toString() + ' used=' + st.used.toString() + '\n');
  say('done\n');
  return 0;
}
