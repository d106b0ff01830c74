// Client side of the name service (docs/USERLAND.md "Name service protocol").
//
//   const ep = lookup("console", CompSlot.FirstFree + 8); // the slot to receive it in
//   if (ep > 0) call(ep, ...);
//
// lookup returns the slot on success, or -(NamesStatus) / -(100 + Err) on failure.

import { CompSlot, Err, call, setMr, getMr, msgInfo, setRecvSlot, recvCapCount } from "./l4";
import { NamesProto, NamesStatus } from "./bootplan";

/** Stage `name` as MR0 = length, MR1.. = bytes (four a word, first byte lowest). Returns the
 *  message length in MRs. */
function stageName(name: string): i32 {
  const n = name.length;
  setMr(0, n);
  const words = (n + 3) >> 2;
  for (let w = 0; w < words; w++) {
    let word = 0;
    for (let b = 0; b < 4; b++) {
      const i = w * 4 + b;
      if (i < n) word |= (name.charCodeAt(i) & 0xff) << (8 * b);
    }
    setMr(1 + w, word);
  }
  return 1 + words;
}

/** Look `name` up; the endpoint arrives in `slot` (must be empty). */
export function lookup(name: string, slot: i32): i32 {
  setRecvSlot(slot);
  const len = stageName(name);
  const err = call(CompSlot.Names, msgInfo(NamesProto.Lookup, len));
  setRecvSlot(0);
  if (err != Err.Ok) return -(100 + err);
  const status = getMr(0);
  if (status != NamesStatus.Ok) return -status;
  if (recvCapCount() != 1) return -(100 + Err.SlotOccupied);
  return slot;
}

/** Tell the name service that the service `name` (provided by this component) is ready.
 *  Returns a NamesStatus (or 100 + Err). */
export function register(name: string): i32 {
  const len = stageName(name);
  const err = call(CompSlot.Names, msgInfo(NamesProto.Register, len));
  if (err != Err.Ok) return 100 + err;
  return getMr(0);
}
