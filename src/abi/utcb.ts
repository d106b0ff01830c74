// The user thread control block: one page per thread, mapped in its task at the address given
// to ThreadConfigure (by convention UTCB_BASE + n * PAGE_SIZE). Byte offsets (docs/ABI.md "UTCB").
//
// MR[i] for i >= 4 is at Mr + 4*i (words for MR0..MR3 exist but are unused: those travel in
// a2..a5), so MR index and word index agree.

export const Utcb = {
  /** Message registers: MR[i] at Mr + 4 * i, i < MSG_MAX. */
  Mr: 0x000,
  /** Sender: slots of the capabilities to transfer (msginfo caps). */
  XferCap0: 0x100,
  XferCap1: 0x104,
  XferCap2: 0x108,
  /** Sender: the map item: source fpage in the sender's space, and the send base. */
  MapFpage: 0x10c,
  MapSendBase: 0x110,
  /** Receiver: first slot for received capabilities (0 = accept none). */
  RecvSlot: 0x120,
  /** Receiver: receive window for map items (an fpage; 0 = accept none). */
  RecvWindow: 0x124,
  /** Kernel-written on receive: how many capabilities arrived, and where a mapping landed. */
  RecvCapCount: 0x128,
  RecvMapBase: 0x12c,
  /** Free for the user library (thread-local storage pointer, ...). */
  User: 0x200,
} as const;

export const UTCB_SIZE = 4096;
