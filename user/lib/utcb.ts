// Capability transfer and map items (docs/ABI.md "Messages"): what the sender names in its UTCB
// and what the receiver accepts. Set these before the IPC; msgInfo's caps/map/grant say whether
// the message carries them.

import { FPAGE_ORDER_MASK, FPAGE_ORDER_SHIFT, FPAGE_RIGHTS_MASK, Utcb } from "./abi";
import { utcbGet, utcbSet } from "./ipc";

/** A flexpage: 2^order pages from `base` (aligned to the size), with rights (Rights.*). */
export function fpage(base: i32, order: i32, rights: i32): i32 {
  return (base & ~0xfff) | ((order & FPAGE_ORDER_MASK) << FPAGE_ORDER_SHIFT) | (rights & FPAGE_RIGHTS_MASK);
}

/** Name up to three capabilities (slots) to transfer; msgInfo(..., caps = how many). */
export function setXferCaps(slot0: i32, slot1: i32 = 0, slot2: i32 = 0): void {
  utcbSet(Utcb.XferCap0, slot0);
  utcbSet(Utcb.XferCap1, slot1);
  utcbSet(Utcb.XferCap2, slot2);
}

/** The map item of the next message: source fpage and send base; msgInfo(..., map = true). */
export function setMapItem(srcFpage: i32, sendBase: i32): void {
  utcbSet(Utcb.MapFpage, srcFpage);
  utcbSet(Utcb.MapSendBase, sendBase);
}

/** First slot for capabilities received (0 = accept none). */
export function setRecvSlot(slot: i32): void {
  utcbSet(Utcb.RecvSlot, slot);
}

/** Receive window for map items (an fpage; 0 = accept none). */
export function setRecvWindow(window: i32): void {
  utcbSet(Utcb.RecvWindow, window);
}

/** How many capabilities the last message delivered. */
export function recvCapCount(): i32 {
  return utcbGet(Utcb.RecvCapCount);
}

/** Where the mapping of the last message landed. */
export function recvMapBase(): i32 {
  return utcbGet(Utcb.RecvMapBase);
}
