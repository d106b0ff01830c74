// Small helpers the drivers share: message-info words, halfword access through the word
// intrinsics, and the kernel methods they invoke (numbers of src/abi/sys.ts Method). The system
// calls themselves come from user/lib/syscalls.ts.

import { peek, poke } from '../lib/syscalls';
export { sysCall, sysSend, sysNbSend, sysRecv, sysReply, sysReplyRecv, sysInvoke, res, peek, poke } from '../lib/syscalls';

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
/** The label of a received message-info word. */
export function msgLabel(info: i32): i32 {
  return <i32>(<u32>info >> 12);
}

/** Halfword at `addr` (2-aligned), through the word intrinsic. */
export function peek16(addr: i32): i32 {
  const w = peek(addr & ~3);
  return (addr & 2) != 0 ? <i32>(<u32>w >> 16) : w & 0xffff;
}
/** Store the halfword `v` at `addr` (2-aligned): read-modify-write of the word. */
export function poke16(addr: i32, v: i32): void {
  const a = addr & ~3;
  const w = peek(a);
  if ((addr & 2) != 0) poke(a, (w & 0xffff) | (v << 16));
  else poke(a, (w & <i32>0xffff0000) | (v & 0xffff));
}
