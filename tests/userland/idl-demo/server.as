// Server of the generator's test service (tests/userland/idl-demo/demo.json) on slot 16.
import { DemoServer, DemoMixResult, DemoPageResult, DemoLastNoteResult, DemoWideResult, demoServe } from './demo';
import { ERR_BUSY, sysPeek } from './rt';

// @ts-ignore: decorator
@external("l4", "invoke")
declare function invoke(slot: i32, method: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32): i32;
// @ts-ignore: decorator
@external("l4", "res")
declare function res(i: i32): i32;

let noted: u32 = 0;
const buf = new ArrayBuffer(3 * 4096);
const page: u32 = (changetype<u32>(buf) + 4095) & ~4095;

class Demo extends DemoServer {
  mix(badge: u32, a: i32, flag: bool, frame: u32, out: DemoMixResult): i32 {
    out.neg = -a;
    out.inverted = !flag;
    // CapIdentify on our own task (slot 1) of the slot the capability arrived in.
    out.capType = frame != 0 && invoke(1, 0x15, <i32>frame, 0, 0, 0, 0) == 0 ? <u32>res(1) : 0;
    if (frame != 0) invoke(1, 0x13, <i32>frame, 0, 0, 0, 0); // free the receive slot
    return 0;
  }
  page(badge: u32, out: DemoPageResult): i32 {
    store<u32>(page, 0xfeedf00d);
    out.whereFpage = page | 1; // one page, read-only
    out.whereSendBase = 0;
    out.magic = 0xfeedf00d;
    return 0;
  }
  note(badge: u32, v: u32): i32 { noted = v; return 0; }
  lastNote(badge: u32, out: DemoLastNoteResult): i32 { out.v = noted; return 0; }
  wide(badge: u32, w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, out: DemoWideResult): i32 {
    out.sum = w0 + w1 + w2 + w3 + w4 + w5;
    out.r1 = w1; out.r2 = w2; out.r3 = w3; out.r4 = w4; out.r5 = w5;
    return 0;
  }
  fails(badge: u32): i32 { return ERR_BUSY; }
}

export function main(): i32 {
  const s = new Demo();
  s.recvSlot = 40;
  demoServe(s, 16);
  return 0;
}
