// Start information (docs/USERLAND.md "Start information", src/abi/bootplan.ts StartHdr): the
// read-only page the root task maps at a component's start argument (a0) when the boot plan gives
// it one. Its capability directory (StartCap) names the slots of the capabilities whose slot
// depends on what else the component holds (devices, IRQs, services of its own): look them up
// here rather than counting slots from CompSlot.FirstFree.
//
//   const ntfn = ringNotificationSlot("blk"); // 0: the directory lists none

import { DATA_BASE, RtData } from "./abi";
import { peek } from "./syscalls";
import { START_INFO_MAGIC, StartHdr, StartCap, StartCapKind } from "./bootplan";

/** The start-information page (the thread's a0 when it started), or 0 if it has none. */
export function startInfo(): i32 {
  return peek(DATA_BASE + RtData.StartArg);
}

/** Whether the start information is a StartHdr page (a virtio-blk driver's is its own layout). */
export function hasStartHdr(): bool {
  const base = startInfo();
  return base != 0 && peek(base + 4 * StartHdr.Magic) == START_INFO_MAGIC;
}

/** Word `k` of the start information (only when startInfo() != 0). */
export function startWord(k: i32): i32 {
  return peek(startInfo() + 4 * k);
}

/** Whether the name field (NAME_WORDS words) at byte address `at` holds `name`. */
function nameIs(at: i32, name: string): bool {
  const n = name.length;
  if (peek(at) != n) return false;
  for (let i = 0; i < n; i++) {
    const w = peek(at + 4 + (i & ~3));
    if (((w >>> (8 * (i & 3))) & 0xff) != (name.charCodeAt(i) & 0xff)) return false;
  }
  return true;
}

/** The slot of the capability the directory lists as (`kind` StartCapKind, `name`), or 0 if it
 *  lists none (also without start information or a StartHdr page). */
export function startCapSlot(kind: i32, name: string): i32 {
  if (!hasStartHdr()) return 0;
  const n = startWord(StartHdr.CapCount);
  const words = startWord(StartHdr.CapWords);
  const table = startWord(StartHdr.CapTable);
  for (let i = 0; i < n; i++) {
    const e = table + i * words;
    if (startWord(e + StartCap.Kind) == kind && nameIs(startInfo() + 4 * (e + StartCap.Name), name)) return startWord(e + StartCap.Slot);
  }
  return 0;
}

/** The slot of the notification this component waits on for the ring responses of the
 *  ring-capable service `service` and passes to its provider when it connects (Notification(ring:C)
 *  RW), or 0 if it holds none for that service. */
export function ringNotificationSlot(service: string): i32 {
  return startCapSlot(StartCapKind.RingNotification, service);
}
