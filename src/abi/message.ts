// The message-info word, flexpages and the fault protocol (docs/ABI.md "Messages").
//
// Message-info word (a1 on IPC):
//   bits  6:0   length: message registers used, 0..MSG_MAX (MR0..MR3 in a2..a5, rest in UTCB)
//   bits  8:7   caps: capabilities to transfer, 0..3 (slots in UTCB XferCap0..2)
//   bit   9     map: the message carries a map item (UTCB MapFpage, MapSendBase)
//   bit   10    grant: the map item moves the pages instead of sharing them
//   bits 31:12  label: 20 bits, free for the protocol (faults use FaultLabel.*)

export const MSG_MAX = 64;
export const MSGINFO_LENGTH_MASK = 0x7f;
export const MSGINFO_CAPS_SHIFT = 7;
export const MSGINFO_CAPS_MASK = 0x3;
export const MSGINFO_MAP = 1 << 9;
export const MSGINFO_GRANT = 1 << 10;
export const MSGINFO_LABEL_SHIFT = 12;
export const MSG_MAX_CAPS = 3;

export interface MsgInfo {
  label: number;
  length: number;
  caps: number;
  map: boolean;
  grant: boolean;
}

export function msgInfo(label: number, length: number, caps = 0, map = false, grant = false): number {
  return ((label << MSGINFO_LABEL_SHIFT) | ((caps & MSGINFO_CAPS_MASK) << MSGINFO_CAPS_SHIFT) |
    (map ? MSGINFO_MAP : 0) | (grant ? MSGINFO_GRANT : 0) | (length & MSGINFO_LENGTH_MASK)) | 0;
}

export function decodeMsgInfo(w: number): MsgInfo {
  return {
    label: w >>> MSGINFO_LABEL_SHIFT,
    length: w & MSGINFO_LENGTH_MASK,
    caps: (w >>> MSGINFO_CAPS_SHIFT) & MSGINFO_CAPS_MASK,
    map: (w & MSGINFO_MAP) !== 0,
    grant: (w & MSGINFO_GRANT) !== 0,
  };
}

// Flexpage (fpage): a power-of-two, size-aligned range of virtual pages with access rights.
//   bits 31:12  base page (the base must be aligned to the size)
//   bits  8:4   order: log2 of the number of pages, 0..20
//   bits  2:0   rights: Rights.Read | Rights.Write | Rights.Exec
export const FPAGE_ORDER_SHIFT = 4;
export const FPAGE_ORDER_MASK = 0x1f;
export const FPAGE_RIGHTS_MASK = 0x7;
export const FPAGE_MAX_ORDER = 20;

export function fpage(base: number, order: number, rights: number): number {
  return ((base & ~0xfff) | ((order & FPAGE_ORDER_MASK) << FPAGE_ORDER_SHIFT) | (rights & FPAGE_RIGHTS_MASK)) | 0;
}

/** Labels of the messages the kernel sends on a thread's behalf, and of the replies. */
export const FaultLabel = {
  /** Page fault: MR0 = address, MR1 = pc, MR2 = access (0 read, 1 write, 2 execute).
   *  The reply may carry a map item; the thread then retries the instruction. */
  PageFault: 0xfffff,
  /** Exception: MR0 = cause (mcause numbering), MR1 = pc, MR2 = tval, MR3 = sp,
   *  MR4..MR11 = a0..a7 (length EXC_MSG_LENGTH). An `ecall` whose a7 is not a system call
   *  arrives here with cause 8 (a runtime call, runtime.ts). Reply label ExcReply.Resume with
   *  MR0 = new pc resumes (length >= 2: MR1 becomes a0; length >= 3: MR2 becomes a1);
   *  ExcReply.Kill stops the thread. */
  Exception: 0xffffe,
} as const;

export const ExcReply = {
  Resume: 0,
  Kill: 1,
} as const;

/** Length of an exception message (MR0..MR11). */
export const EXC_MSG_LENGTH = 12;

export const FaultAccess = { Read: 0, Write: 1, Exec: 2 } as const;
