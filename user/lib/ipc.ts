// IPC for AssemblyScript programs (docs/USERLAND.md, docs/ABI.md "Messages"): the message-info
// word, staging of message registers, the IPC system calls, and what the last message received
// carried. MR0..MR3 travel in registers (a2..a5); MR4..MR63 live in the thread's UTCB.
//
// Usage:
//   setMr(0, x); setMr(1, y);
//   const err = call(EP, msgInfo(LABEL, 2));
//   if (err == Err.Ok && msgLabel() == 0) use(getMr(0));

import { sysCall, sysNbRecv, sysNbSend, sysRecv, sysReply, sysReplyRecv, sysSend, sysYield, res, peek, poke } from "./syscalls";
import {
  MSG_MAX, MSGINFO_CAPS_MASK, MSGINFO_CAPS_SHIFT, MSGINFO_GRANT, MSGINFO_LABEL_SHIFT,
  MSGINFO_LENGTH_MASK, MSGINFO_MAP, UTCB_BASE, Utcb,
} from "./abi";

// --- the thread's UTCB ----------------------------------------------------------------------

let utcbBase: i32 = UTCB_BASE;

/** The UTCB address of the running thread (UTCB_BASE unless setUtcb said otherwise). */
export function utcb(): i32 {
  return utcbBase;
}

/** Tell the library where this thread's UTCB is (threads after the first: UTCB_BASE + n*4096). */
export function setUtcb(addr: i32): void {
  utcbBase = addr;
}

/** The UTCB word at byte offset `off` (Utcb.*). */
export function utcbGet(off: i32): i32 {
  return peek(utcbBase + off);
}

/** Set the UTCB word at byte offset `off` (Utcb.*). */
export function utcbSet(off: i32, value: i32): void {
  poke(utcbBase + off, value);
}

// --- message info ---------------------------------------------------------------------------

/** The message-info word: label (20 bits), length (MRs used), capabilities, map item, grant. */
export function msgInfo(label: i32, length: i32, caps: i32 = 0, map: bool = false, grant: bool = false): i32 {
  return (label << MSGINFO_LABEL_SHIFT) | ((caps & MSGINFO_CAPS_MASK) << MSGINFO_CAPS_SHIFT) |
    (map ? MSGINFO_MAP : 0) | (grant ? MSGINFO_GRANT : 0) | (length & MSGINFO_LENGTH_MASK);
}

export function infoLabel(info: i32): i32 {
  return <i32>(<u32>info >> MSGINFO_LABEL_SHIFT);
}

export function infoLength(info: i32): i32 {
  return info & MSGINFO_LENGTH_MASK;
}

export function infoCaps(info: i32): i32 {
  return (info >> MSGINFO_CAPS_SHIFT) & MSGINFO_CAPS_MASK;
}

// --- message registers ------------------------------------------------------------------------

// Outgoing MR0..MR3 (the next IPC's a2..a5).
let out0: i32 = 0;
let out1: i32 = 0;
let out2: i32 = 0;
let out3: i32 = 0;
// The last message received (or the reply of the last call): a1..a6.
let inInfo: i32 = 0;
let in0: i32 = 0;
let in1: i32 = 0;
let in2: i32 = 0;
let in3: i32 = 0;
let inBadge: i32 = 0;

/** Stage MR[i] of the next message (i < MSG_MAX; MR4.. go to the UTCB at once). */
export function setMr(i: i32, value: i32): void {
  switch (i) {
    case 0: out0 = value; break;
    case 1: out1 = value; break;
    case 2: out2 = value; break;
    case 3: out3 = value; break;
    default:
      if (<u32>i < <u32>MSG_MAX) poke(utcbBase + Utcb.Mr + 4 * i, value);
  }
}

/** MR[i] of the last message received (0 for i >= MSG_MAX). */
export function getMr(i: i32): i32 {
  switch (i) {
    case 0: return in0;
    case 1: return in1;
    case 2: return in2;
    case 3: return in3;
    default:
      if (<u32>i < <u32>MSG_MAX) return peek(utcbBase + Utcb.Mr + 4 * i);
      return 0;
  }
}

/** The message-info word of the last message received. */
export function msgInfoIn(): i32 {
  return inInfo;
}

export function msgLabel(): i32 {
  return infoLabel(inInfo);
}

export function msgLength(): i32 {
  return infoLength(inInfo);
}

/** Capabilities that arrived with the last message (the kernel's count in the UTCB). */
export function msgCaps(): i32 {
  return infoCaps(inInfo);
}

/** The badge of the capability the last message came through (a6), or a notification's word. */
export function badge(): i32 {
  return inBadge;
}

/** Keep what an IPC returned (a1..a6) before another system call replaces it. */
function received(err: i32): i32 {
  inInfo = res(1);
  in0 = res(2);
  in1 = res(3);
  in2 = res(4);
  in3 = res(5);
  inBadge = res(6);
  return err;
}

// --- IPC --------------------------------------------------------------------------------------

/** Send the staged message on endpoint `cptr` and wait for the reply (getMr, msgLabel...). */
export function call(cptr: i32, info: i32, timeout: i32 = 0): i32 {
  return received(sysCall(cptr, info, out0, out1, out2, out3, timeout));
}

/** Send (blocks until received); on a notification: signal. */
export function send(cptr: i32, info: i32, timeout: i32 = 0): i32 {
  return sysSend(cptr, info, out0, out1, out2, out3, timeout);
}

/** Send only if a receiver waits (else Err.WouldBlock); on a notification: signal. */
export function nbSend(cptr: i32, info: i32): i32 {
  return sysNbSend(cptr, info, out0, out1, out2, out3, 0);
}

/** Receive on an endpoint, or wait on a notification (its word: badge()). */
export function recv(cptr: i32, timeout: i32 = 0): i32 {
  return received(sysRecv(cptr, 0, 0, 0, 0, 0, timeout));
}

/** Receive only if a sender waits (else Err.WouldBlock); poll a notification. */
export function nbRecv(cptr: i32): i32 {
  return received(sysNbRecv(cptr, 0, 0, 0, 0, 0, 0));
}

/** Reply with the staged message through the reply right the last receive gave. */
export function reply(info: i32): i32 {
  return sysReply(0, info, out0, out1, out2, out3, 0);
}

/** Reply (if a reply right is held), then receive on `cptr`. */
export function replyRecv(cptr: i32, info: i32, timeout: i32 = 0): i32 {
  return received(sysReplyRecv(cptr, info, out0, out1, out2, out3, timeout));
}

/** Give up the rest of the timeslice. */
export function yieldCpu(): void {
  sysYield();
}
