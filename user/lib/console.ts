// The console client (docs/USERLAND.md "Console"): print lines through the console service
// (protocol user/idl/console.json, stubs user/lib/gen/console.ts).
//
//   print(s)                  write s and a newline: the line `[tag] s`; returns 0 or an Err
//   write(s)                  write s as it is (the console shows a line once its newline came)
//   setConsoleTag("hello")    the tag of this component's lines (default: its badge)
//   useConsole(slot)          the console endpoint is in `slot`; otherwise the first call looks
//                             "console" up at the name service (CompSlot.Names) and receives
//                             the endpoint into CONSOLE_SLOT
//   readInput(max)            bytes typed at the UART (waits until there is one)
//
// A call the console could not finish because it was restarted meanwhile returns Err.Aborted;
// the tag is sent again with the next call, so lines after the restart are tagged as before.

import { Err, CSPACE_SLOTS, CompSlot, ObjType, capIdentify, res } from "./l4";
import { ConsoleClient, ConsoleWriteResult, ConsoleReadResult } from "./gen/console";
import { NamesClient, NamesLookupResult } from "./gen/names";

/** Where a looked-up console endpoint is received (near the top of the capability space). */
export const CONSOLE_SLOT: i32 = CSPACE_SLOTS - 2;
const MAX_BYTES = 200;

let client: ConsoleClient | null = null;
let tag: string = "";
let tagSent = false;
const writeOut = new ConsoleWriteResult();
const readOut = new ConsoleReadResult();

/** Use the console endpoint in `slot` (a capability the component already holds). */
export function useConsole(slot: i32): void {
  client = new ConsoleClient(<u32>slot);
  tagSent = false;
}

/** The tag the console puts before this component's lines. */
export function setConsoleTag(t: string): void {
  tag = t;
  tagSent = false;
}

/** The error of the last failed connection to the console (Err.*, or 100 + NamesStatus). */
export let lastError: i32 = 0;

/**
 * The endpoint of service `name` in `slot`: used as it is when `slot` already holds an
 * endpoint (an earlier lookup, or one the root task put there), else looked up at the name
 * service (CompSlot.Names) into `slot`. Returns `slot`, or -(error): -(Err.*) for a kernel
 * error, -(100 + NamesStatus) when the name service refuses.
 */
export function findService(name: string, slot: i32): i32 {
  if (capIdentify(CompSlot.Task, slot) == Err.Ok && res(1) == ObjType.Endpoint) return slot;
  const names = new NamesClient(<u32>CompSlot.Names);
  names.recvSlot = <u32>slot;
  const out = new NamesLookupResult();
  const e = names.lookup(Uint8Array.wrap(String.UTF8.encode(name)), out);
  if (e != Err.Ok) return e <= 4 && capIdentify(CompSlot.Task, CompSlot.Names) == Err.Ok && res(1) == ObjType.Endpoint ? -(100 + e) : -e;
  return out.endpoint != 0 ? slot : -Err.EmptySlot;
}

function connect(): ConsoleClient | null {
  if (client === null) {
    const s = findService("console", CONSOLE_SLOT);
    if (s <= 0) {
      lastError = -s;
      return null;
    }
    client = new ConsoleClient(<u32>s);
  }
  const c = client!;
  if (!tagSent && tag.length > 0) {
    const e = c.tag(Uint8Array.wrap(String.UTF8.encode(tag)));
    if (e != Err.Ok) {
      lastError = e;
      return null;
    }
    tagSent = true;
  }
  return c;
}

/** Write the bytes of `s` (UTF-8). Returns 0 or an error (Err.*). */
export function write(s: string): i32 {
  const c = connect();
  if (c === null) return lastError;
  const all = Uint8Array.wrap(String.UTF8.encode(s));
  for (let off = 0; off < all.length; off += MAX_BYTES) {
    const end = off + MAX_BYTES < all.length ? off + MAX_BYTES : all.length;
    const e = c.write(all.subarray(off, end), writeOut);
    if (e != Err.Ok) {
      tagSent = false; // the console may come back restarted: say who we are again
      return e;
    }
  }
  return Err.Ok;
}

/** Write `s` and a newline: the line `[tag] s` on the console. Returns 0 or an Err. */
export function print(s: string): i32 {
  return write(s + "\n");
}

/** Up to `max` bytes typed at the UART; waits until there is at least one. Returns null on an
 *  error other than "nothing yet" (WouldBlock) or a console restart (Aborted). */
export function readInput(max: i32): Uint8Array | null {
  for (;;) {
    const c = connect();
    if (c === null) return null;
    const e = c.read(<u32>max, readOut);
    if (e == Err.Ok) return readOut.text;
    if (e == Err.Aborted) tagSent = false;
    if (e != Err.WouldBlock && e != Err.Aborted) return null;
  }
  return null;
}
