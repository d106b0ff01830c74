// Small helpers the drivers share: message-info words, halfword access through the word
// intrinsics, and the kernel methods they invoke (numbers of src/abi/sys.ts Method). The system
// calls themselves come from user/lib/syscalls.ts.

import { peek, poke } from '../lib/syscalls';
import { debugPrint } from '../lib/debug';
export { sysCall, sysSend, sysNbSend, sysRecv, sysReply, sysReplyRecv, sysInvoke, res, peek, poke } from '../lib/syscalls';

export const M_CAP_MOVE = 0x12;
export const M_CAP_DELETE = 0x13;
export const M_CAP_IDENTIFY = 0x15;
export const M_FRAME_MAP = 0x28;
export const M_FRAME_INFO = 0x2a;
export const M_IRQ_SET_NTFN = 0x48;
export const M_IRQ_ACK = 0x49;
export const M_DMA_SET_WINDOW = 0x50;
export const DMA_READ = 1;
export const DMA_WRITE = 2;
/** CompSlot.Task: every component's own task capability. */
export const SLOT_TASK = 1;

/** src/abi/message.ts msgInfo(label, length). */
export function msgInfo(label: i32, length: i32): i32 {
  return (label << 12) | (length & 0x7f);
}
/** Message info with `caps` capabilities to transfer (UTCB XferCap0..2). */
export function msgInfoCaps(label: i32, length: i32, caps: i32): i32 {
  return (label << 12) | ((caps & 3) << 7) | (length & 0x7f);
}
/** Capabilities that arrived with a received message-info word. */
export function msgCaps(info: i32): i32 {
  return (info >> 7) & 3;
}
/** The thread's UTCB (src/abi/layout.ts UTCB_BASE) and the words the drivers use (utcb.ts). */
export const UTCB: i32 = <i32>0xf000_0000;
export const UTCB_XFER_CAP0 = 0x100;
export const UTCB_RECV_SLOT = 0x120;
export const UTCB_RECV_CAP_COUNT = 0x128;
/** Object types (src/abi/caps.ts ObjType) and rights. */
export const OBJ_NOTIFICATION = 5;
export const OBJ_FRAME = 6;
export const RIGHT_WRITE = 2;

/** The label of a received message-info word. */
export function msgLabel(info: i32): i32 {
  return <i32>(<u32>info >> 12);
}

/** Halfword at `addr` (2-aligned), through the word intrinsic. */
@inline export function peek16(addr: i32): i32 {
  const w = peek(addr & ~3);
  return (addr & 2) != 0 ? <i32>(<u32>w >> 16) : w & 0xffff;
}
/** Store the halfword `v` at `addr` (2-aligned): read-modify-write of the word. */
@inline export function poke16(addr: i32, v: i32): void {
  const a = addr & ~3;
  const w = peek(a);
  if ((addr & 2) != 0) poke(a, (w & 0xffff) | (v << 16));
  else poke(a, (w & <i32>0xffff0000) | (v & 0xffff));
}

/** A driver's diagnostic line, on the kernel debug console (Sys.DebugPutc), which `l4ts boot`
 *  prints tagged with the driver's name and the test rig collects. Not console.log: that is a
 *  runtime call, and the supervisor of a supervised driver does not print runtime calls (a
 *  component prints through the console service, which a driver does not use). */
export function log(s: string): void {
  debugPrint(s + '\n');
}
