// Booted-system memory test: provides service "share". Allocates a 4-page region from its own
// quota (memory.shareAlloc), maps it, writes word i = i; label 1 replies with the frame
// capability (a reply carries capabilities without Grant); label 2 checks the client's writes
// (word i = i + 1000) and replies MR0 = 1 if all are there.
import { recv, reply, setMr, msgInfo, msgLabel, Err, CompSlot, Method, Rights, invoke, setXferCaps } from '../../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../../lib/gen/memory';
import { print, setConsoleTag } from '../../lib/console';

const EP = 16;
const FRAME = 100;
const REGION: u32 = 0x4000_0000;
const WORDS: u32 = 4 * 1024;

export function main(): void {
  setConsoleTag('share-server');
  const mem = new MemoryClient(CompSlot.Memory);
  mem.recvSlot = FRAME;
  const r = new MemoryShareAllocResult();
  const e = mem.shareAlloc(4, r);
  const m = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  print('shareAlloc(4) = ' + e.toString() + ', frame in slot ' + r.frame.toString() + ', mapped: ' + m.toString());
  for (let i: u32 = 0; i < WORDS; i++) store<u32>(REGION + i * 4, i);
  for (;;) {
    if (recv(EP) != Err.Ok) continue;
    if (msgLabel() == 1) {
      setXferCaps(FRAME);
      setMr(0, 0);
      reply(msgInfo(0, 1, 1));
    } else {
      let ok = true;
      for (let i: u32 = 0; i < WORDS; i++) if (load<u32>(REGION + i * 4) != i + 1000) ok = false;
      print('sees the client\'s writes: ' + (ok ? 'yes' : 'no'));
      setMr(0, ok ? 1 : 0);
      reply(msgInfo(0, 1));
    }
  }
}
