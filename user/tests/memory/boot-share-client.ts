// Booted-system memory test: uses service "share": receives the server's region as a frame
// capability, maps it at another address, checks the server's words, adds 1000 to each, and
// asks the server to check.
import { call, setMr, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setRecvSlot, recvCapCount } from '../../lib/l4';
import { print, setConsoleTag, findService } from '../../lib/console';

const SHARE_SLOT = 200;
const FRAME = 201;
const REGION: u32 = 0x5000_0000;
const WORDS: u32 = 4 * 1024;

export function main(): i32 {
  setConsoleTag('share-client');
  const ep = findService('share', SHARE_SLOT);
  setRecvSlot(FRAME);
  const e = call(ep, msgInfo(1, 0));
  setRecvSlot(0);
  const m = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  print('got the region: call ' + e.toString() + ', capabilities ' + recvCapCount().toString() + ', mapped: ' + m.toString());
  let ok = true;
  for (let i: u32 = 0; i < WORDS; i++) if (load<u32>(REGION + i * 4) != i) ok = false;
  print('sees the server\'s words: ' + (ok ? 'yes' : 'no'));
  for (let i: u32 = 0; i < WORDS; i++) store<u32>(REGION + i * 4, i + 1000);
  const e2 = call(ep, msgInfo(2, 0));
  print('server checked: ' + (e2 == Err.Ok && getMr(0) == 1 ? 'yes' : 'no'));
  print('done');
  return 0;
}
