// Error codes returned in a0 (docs/ABI.md "Errors"). 0 is success. The numbers are ABI.

export const Err = {
  Ok: 0,
  /** The slot number is outside the capability space. */
  InvalidSlot: 1,
  /** The slot is empty. */
  EmptySlot: 2,
  /** The capability is of the wrong type for the operation. */
  WrongType: 3,
  /** The capability lacks a right the operation needs. */
  NoRights: 4,
  /** The destination slot is occupied. */
  SlotOccupied: 5,
  /** An argument is out of range or malformed. */
  InvalidArg: 6,
  /** Not enough memory (untyped exhausted, kernel page-table pool exhausted). */
  NoMemory: 7,
  /** A non-blocking operation would have blocked. */
  WouldBlock: 8,
  /** The timeout expired. */
  Timeout: 9,
  /** The partner went away (reply right discarded, object deleted, thread suspended). */
  Aborted: 10,
  /** Nothing is mapped at the source address. */
  NotMapped: 11,
  /** The operation is not valid in the object's state (e.g. resuming an unconfigured thread). */
  IllegalState: 12,
  /** No reply right is held. */
  NoReply: 13,
  /** Unknown method. (An unknown system-call number is a runtime call: an exception to the
   *  thread's exception handler, docs/ABI.md "Runtime calls".) */
  InvalidCall: 14,
  /** The object has children or mappings that the operation would orphan (revoke first). */
  Busy: 15,
} as const;
export type ErrCode = (typeof Err)[keyof typeof Err];

const NAMES: readonly string[] = (() => {
  const a: string[] = [];
  for (const [k, v] of Object.entries(Err)) a[v] = k;
  return a;
})();

/** The name of an error code ("Ok", "NoRights", ...), or "Err(n)" for an unknown one. */
export function errName(code: number): string {
  return NAMES[code] ?? `Err(${code})`;
}
