// Memory-manager test, shared memory, side B: receives the frame capability on slot 17, maps
// it at a different address, checks A's pattern, adds 1000 to every word, replies.
import { Method, Rights, CompSlot } from '../../lib/abi';
import { invoke } from '../../lib/objects';
import { sysRecv, sysReply, res } from '../../lib/syscalls';
import { setRecvSlot, recvCapCount } from '../../lib/utcb';
import { msgInfo } from '../../lib/ipc';
import { say } from '../idl/debug';

const REGION: u32 = 0x5000_0000;

export function main(): i32 {
  setRecvSlot(30);
  const err = sysRecv(17, 0, 0, 0, 0, 0, 0);
  say('B: recv=' + err.toString() + ' mr0=' + res(2).toString() + ' caps=' + recvCapCount().toString() + '\n');
  const m = invoke(30, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  say('B: map=' + m.toString() + '\n');
  let ok = true;
  for (let i: u32 = 0; i < 4 * 1024; i++) if (load<u32>(REGION + i * 4) != i) ok = false;
  say('B: sees A=' + (ok ? 'yes' : 'no') + '\n');
  for (let i: u32 = 0; i < 4 * 1024; i++) store<u32>(REGION + i * 4, i + 1000);
  sysReply(0, msgInfo(0, 0), 0, 0, 0, 0, 0);
  return 0;
}
