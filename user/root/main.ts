// The root task (docs/USERLAND.md "Boot"): started by the kernel with every boot capability and
// a0 = BOOTINFO_BASE. It interprets the boot plan (module 0, src/abi/bootplan.ts): creates the
// objects, hands out the grants (exactly the lines of src/manifest/caps.ts
// expectedCapabilities), binds the IRQs, loads the images the plan says to load, writes the
// start-information pages, configures and starts every component in start order, and then
// waits forever on a notification nobody signals.
//
// It decides nothing itself: every slot, right, badge and parameter comes from the plan, which
// the host computed from the validated manifest.

import {
  peek, poke, BOOTINFO_BASE, BOOTINFO_MAGIC, BootInfo, BootSlot, ObjType, Rights, Err, Method, Utcb,
  STACK_TOP, UTCB_BASE, invoke, utcbSet, capCopy, capMint, untypedRetype, frameMap, frameUnmap,
  threadConfigure, threadSetRegs, threadSetPriority, threadResume, threadBindSc, scConfigure,
  irqSetNotification, recv, debugPrint, debugPrintHex, debugPrintInt,
} from "../lib/l4";
import {
  BOOTPLAN_MAGIC, BOOTPLAN_VERSION, PlanHdr, PlanComp, PlanCompFlags, PlanObj, PlanObjKind, PlanGrant, PlanPlace,
  PlanIrqBind, PLAN_NONE, START_INFO_BASE,
} from "../lib/bootplan";

/** A page of the root's own address space for writing frames before they are handed out. */
const SCRATCH: i32 = <i32>0xee000000;
/** Each component task is carved from an untyped of its own that also pays for its L2 page
 *  tables (the kernel charges them to the task's untyped): at least 2^TASK_UNTYPED_BITS pages,
 *  more for a memory quota that spans many 4 MiB regions. */
const TASK_UNTYPED_BITS: i32 = 5;

function taskUntypedBits(memoryPages: i32): i32 {
  // The task page, a table per region of the layout (code, data, stack, UTCB, ...: at most
  // 16), and one per 4 MiB of quota.
  const need = 1 + 16 + ((memoryPages + 1023) >> 10);
  let bits = TASK_UNTYPED_BITS;
  while ((1 << bits) < need) bits++;
  return bits;
}

// --- BootInfo and the plan ----------------------------------------------------------------------

function bi(k: i32): i32 {
  return peek(BOOTINFO_BASE + 4 * k);
}

let planBase: i32 = 0;
function pw(k: i32): i32 {
  return peek(planBase + 4 * k);
}

function moduleWord(m: i32, k: i32): i32 {
  return bi(BootInfo.Tables + 4 * m + k);
}

function fail(what: string, err: i32): void {
  debugPrint("root: ");
  debugPrint(what);
  debugPrint(" failed: error ");
  debugPrintInt(err);
  debugPrint("\n");
  abort();
}

function check(err: i32, what: string): void {
  if (err != Err.Ok) fail(what, err);
}

// --- slots and memory ---------------------------------------------------------------------------

let nextSlot: i32 = 0;
function allocSlots(n: i32): i32 {
  const s = nextSlot;
  nextSlot += n;
  return s;
}

let utFirst: i32 = 0;
let utCount: i32 = 0;
let utCur: i32 = 0;

/** Retype one object of `type` (`sizeBits`) from the boot untypeds into a fresh slot: the
 *  kernel's watermarks decide; on NoMemory try the next untyped. */
function retype(type: i32, sizeBits: i32): i32 {
  const slot = allocSlots(1);
  for (let i = utCur; i < utCount; i++) {
    const err = untypedRetype(utFirst + i, type, sizeBits, 1, slot);
    if (err == Err.Ok) {
      utCur = i;
      return slot;
    }
    if (err != Err.NoMemory) fail("retype", err);
  }
  // Smaller objects may still fit in earlier untypeds.
  for (let i = 0; i < utCur; i++) {
    if (untypedRetype(utFirst + i, type, sizeBits, 1, slot) == Err.Ok) return slot;
  }
  fail("retype (out of memory)", Err.NoMemory);
  return 0;
}

/** Name the object in `slot` with the plan name at word `k` (Method.DebugName). */
function nameSlot(slot: i32, k: i32): void {
  const len = pw(k);
  for (let w = 0; w < (len + 3) >> 2; w++) utcbSet(Utcb.Mr + 4 * w, pw(k + 1 + w));
  invoke(slot, Method.DebugName, len);
}

// --- DMA frames at fixed addresses ----------------------------------------------------------------

/** Where the DMA frames so far left each boot untyped's watermark (bytes). */
let dmaWatermark: StaticArray<u32> = new StaticArray<u32>(0);

/** Retype a frame of `pages` pages at physical `pa` from the boot untyped that covers it,
 *  padding with untypeds below it (before any other use of that untyped). */
function dmaFrame(pa: i32, pages: i32): i32 {
  const tables = BootInfo.Tables + 4 * bi(BootInfo.ModuleCount);
  for (let i = 0; i < utCount; i++) {
    const base = bi(tables + 2 * i);
    const size = bi(tables + 2 * i + 1) << 12;
    const off = <u32>pa - <u32>base;
    if (<u32>pa < <u32>base || off + <u32>(pages << 12) > <u32>size) continue;
    let wm = dmaWatermark[i];
    if (wm > off) fail("DMA frames out of order", Err.InvalidArg);
    while (wm < off) {
      let piece: u32 = 4096;
      while (wm % (piece * 2) == 0 && wm + piece * 2 <= off) piece *= 2;
      const s = allocSlots(1);
      check(untypedRetype(utFirst + i, ObjType.Untyped, <i32>(31 - clz(piece >> 12)), 1, s), "DMA padding");
      wm += piece;
    }
    const slot = allocSlots(1);
    check(untypedRetype(utFirst + i, ObjType.Frame, 31 - clz(pages), 1, slot), "DMA frame");
    dmaWatermark[i] = off + <u32>(pages << 12);
    return slot;
  }
  fail("DMA frame outside the boot untypeds", Err.InvalidArg);
  return 0;
}

// --- image loading --------------------------------------------------------------------------------

/** Copy `bytes` bytes from `src` (any alignment) to `dst` (word aligned) with peek/poke. */
function copyBytes(dst: i32, src: i32, bytes: i32): void {
  if ((src & 3) == 0) {
    let i = 0;
    for (; i + 4 <= bytes; i += 4) poke(dst + i, peek(src + i));
    if (i < bytes) {
      const keep = (bytes - i) * 8;
      poke(dst + i, peek(src + i) & (<i32>((<u64>1 << keep) - 1)));
    }
    return;
  }
  for (let i = 0; i < bytes; i += 4) {
    let word = 0;
    for (let b = 0; b < 4 && i + b < bytes; b++) {
      const a = src + i + b;
      const byte = (peek(a & ~3) >>> (8 * (a & 3))) & 0xff;
      word |= byte << (8 * b);
    }
    poke(dst + i, word);
  }
}

/** Load the ELF at module `mv` into `task`: every PT_LOAD page into a fresh frame. */
function loadElf(task: i32, mv: i32): void {
  const phoff = peek(mv + 0x1c);
  const phentsize = (peek(mv + 0x28) >>> 16) & 0xffff;
  const phnum = peek(mv + 0x2c) & 0xffff;
  for (let p = 0; p < phnum; p++) {
    const ph = mv + phoff + p * phentsize;
    if (peek(ph) != 1) continue; // PT_LOAD
    const off = peek(ph + 4);
    const vaddr = peek(ph + 8);
    const filesz = peek(ph + 16);
    const memsz = peek(ph + 20);
    const flags = peek(ph + 24);
    let rights = 0;
    if ((flags & 4) != 0) rights |= Rights.Read;
    if ((flags & 2) != 0) rights |= Rights.Read | Rights.Write;
    if ((flags & 1) != 0) rights |= Rights.Exec;
    if (memsz == 0) continue;
    const first = <u32>vaddr >> 12;
    const last = (<u32>vaddr + <u32>memsz - 1) >> 12;
    for (let page = first; page <= last; page++) {
      const frame = retype(ObjType.Frame, 0);
      const pva = <i32>(page << 12);
      // The part of the file inside this page.
      let lo = pva;
      if (<u32>lo < <u32>vaddr) lo = vaddr;
      let hi = pva + 4096;
      if (<u32>hi > <u32>(vaddr + filesz)) hi = vaddr + filesz;
      if (<u32>lo < <u32>hi) {
        check(frameMap(frame, BootSlot.Task, SCRATCH, Rights.Read | Rights.Write), "map scratch");
        const dst = SCRATCH + (lo - pva);
        const src = mv + off + (lo - vaddr);
        if ((dst & 3) == 0) {
          copyBytes(dst, src, hi - lo);
        } else {
          for (let a = lo; a < hi; a++) {
            const s = src + (a - lo);
            const byte = (peek(s & ~3) >>> (8 * (s & 3))) & 0xff;
            const d = SCRATCH + (a - pva);
            const old = peek(d & ~3);
            const sh = 8 * (d & 3);
            poke(d & ~3, (old & ~(0xff << sh)) | (byte << sh));
          }
        }
        check(frameUnmap(frame), "unmap scratch");
      }
      check(frameMap(frame, task, pva, rights), "map image page");
    }
  }
}

/** Map `pages` (a power of two) of zeroed stack below STACK_TOP in `task`. */
function mapStack(task: i32, pages: i32): void {
  if (pages <= 0) return;
  let bits = 31 - clz(pages);
  if ((1 << bits) < pages) bits++;
  const frame = retype(ObjType.Frame, bits);
  check(frameMap(frame, task, STACK_TOP - (4096 << bits), Rights.Read | Rights.Write), "map stack");
}

// --- the plan -------------------------------------------------------------------------------------

function comp(i: i32, f: i32): i32 {
  return pw(pw(PlanHdr.ComponentTable) + i * PlanComp.Words + f);
}

function obj(i: i32, f: i32): i32 {
  return pw(pw(PlanHdr.ObjectTable) + i * PlanObj.Words + f);
}

function objSlotCount(i: i32): i32 {
  const kind = obj(i, PlanObj.Kind);
  if (kind == PlanObjKind.Untyped || kind == PlanObjKind.ImageFrames) return obj(i, PlanObj.P1);
  return 1;
}

export function main(): i32 {
  if (bi(BootInfo.Magic) != BOOTINFO_MAGIC) fail("BootInfo", Err.InvalidArg);
  nextSlot = bi(BootInfo.FirstFreeSlot);
  utFirst = bi(BootInfo.UntypedFirst);
  utCount = bi(BootInfo.UntypedCount);
  if (bi(BootInfo.ModuleCount) < 1) fail("no boot plan module", Err.InvalidArg);
  planBase = moduleWord(0, 0);
  if (pw(PlanHdr.Magic) != BOOTPLAN_MAGIC || pw(PlanHdr.Version) != BOOTPLAN_VERSION) fail("boot plan magic", Err.InvalidArg);

  const nObj = pw(PlanHdr.ObjectCount);
  const nComp = pw(PlanHdr.ComponentCount);
  const objSlot = new StaticArray<i32>(nObj);
  const pagerSlot = new StaticArray<i32>(nComp);
  const excSlot = new StaticArray<i32>(nComp);

  // 1. DMA frames first, in address order: they need their exact place in untypeds nothing
  //    else has used yet.
  dmaWatermark = new StaticArray<u32>(utCount);
  for (;;) {
    let best = -1;
    for (let i = 0; i < nObj; i++) {
      if (obj(i, PlanObj.Kind) != PlanObjKind.DmaFrame || objSlot[i] != 0) continue;
      if (best < 0 || <u32>obj(i, PlanObj.P0) < <u32>obj(best, PlanObj.P0)) best = i;
    }
    if (best < 0) break;
    objSlot[best] = dmaFrame(obj(best, PlanObj.P0), obj(best, PlanObj.P1));
  }

  // 2. Every other object, named.
  const ioTable = BootInfo.Tables + 4 * bi(BootInfo.ModuleCount) + 2 * utCount;
  for (let i = 0; i < nObj; i++) {
    const kind = obj(i, PlanObj.Kind);
    const p0 = obj(i, PlanObj.P0);
    let slot = 0;
    if (kind == PlanObjKind.Task) {
      const ut = retype(ObjType.Untyped, taskUntypedBits(comp(p0, PlanComp.MemoryPages)));
      slot = allocSlots(1);
      check(untypedRetype(ut, ObjType.Task, 0, 1, slot), "retype task");
    } else if (kind == PlanObjKind.Thread) {
      slot = retype(ObjType.Thread, 0);
    } else if (kind == PlanObjKind.SchedContext) {
      slot = retype(ObjType.SchedContext, 0);
    } else if (kind == PlanObjKind.Endpoint) {
      slot = retype(ObjType.Endpoint, 0);
    } else if (kind == PlanObjKind.Notification) {
      slot = retype(ObjType.Notification, 0);
    } else if (kind == PlanObjKind.Untyped) {
      // Untypeds of 1024 pages (the largest boot untyped), then one per set bit of the rest,
      // largest first, in consecutive slots (src/manifest/bootplan.ts untypedPieces).
      slot = nextSlot;
      let rest = p0;
      while (rest >= 1024) {
        retype(ObjType.Untyped, 10);
        rest -= 1024;
      }
      for (let b = 9; b >= 0; b--) {
        if (((rest >>> b) & 1) != 0) retype(ObjType.Untyped, b);
      }
    } else if (kind == PlanObjKind.ImageFrames) {
      slot = moduleWord(p0, 2);
    } else if (kind == PlanObjKind.IoMem) {
      const n = bi(BootInfo.IoMemCount);
      for (let k = 0; k < n; k++) if (bi(ioTable + k) == p0) slot = bi(BootInfo.IoMemFirst) + k;
      if (slot == 0) fail("no such I/O page", Err.InvalidArg);
    } else if (kind == PlanObjKind.IrqHandler) {
      slot = bi(BootInfo.IrqFirst) + p0 - 1;
    } else if (kind == PlanObjKind.DmaWindow) {
      slot = bi(BootInfo.DmaFirst) + p0;
    } else if (kind == PlanObjKind.DmaFrame) {
      slot = objSlot[i];
    } else if (kind == PlanObjKind.StartInfo) {
      slot = retype(ObjType.Frame, 0);
      check(frameMap(slot, BootSlot.Task, SCRATCH, Rights.Read | Rights.Write), "map start info");
      const words = obj(i, PlanObj.P1);
      for (let w = 0; w < words; w++) poke(SCRATCH + 4 * w, pw(p0 + w));
      check(frameUnmap(slot), "unmap start info");
    } else {
      fail("unknown plan object kind", kind);
    }
    objSlot[i] = slot;
    const n = objSlotCount(i);
    const nameAt = pw(PlanHdr.ObjectTable) + i * PlanObj.Words + PlanObj.Name;
    for (let k = 0; k < n; k++) nameSlot(slot + k, nameAt);
  }

  // 3. Grants, in the order of the expected distribution.
  const nGrant = pw(PlanHdr.GrantCount);
  const gt = pw(PlanHdr.GrantTable);
  for (let g = 0; g < nGrant; g++) {
    const at = gt + g * PlanGrant.Words;
    const holder = pw(at + PlanGrant.Holder);
    const place = pw(at + PlanGrant.Place);
    const o = pw(at + PlanGrant.Obj);
    const rights = pw(at + PlanGrant.Rights);
    const badge = pw(at + PlanGrant.Badge);
    const dst = pw(at + PlanGrant.Slot);
    if (place == PlanPlace.Cspace) {
      const task = objSlot[comp(holder, PlanComp.TaskObj)];
      const n = objSlotCount(o);
      for (let k = 0; k < n; k++) {
        if (badge == 0) check(capCopy(task, objSlot[o] + k, dst + k, rights), "grant copy");
        else check(capMint(task, objSlot[o] + k, dst + k, rights, badge), "grant mint");
      }
    } else {
      // A badged copy in the root's own space for ThreadConfigure (the kernel keeps its copy).
      const s = allocSlots(1);
      check(capMint(BootSlot.Task, objSlot[o], s, rights, badge), "mint handler");
      if (place == PlanPlace.Pager) pagerSlot[holder] = s;
      else excSlot[holder] = s;
    }
  }

  // 4. Interrupts: each source signals its bit of the driver's notification.
  const nBind = pw(PlanHdr.IrqBindCount);
  const bt = pw(PlanHdr.IrqBindTable);
  for (let b = 0; b < nBind; b++) {
    const at = bt + b * PlanIrqBind.Words;
    const s = allocSlots(1);
    check(capMint(BootSlot.Task, objSlot[pw(at + PlanIrqBind.Notification)], s, Rights.Read | Rights.Write, pw(at + PlanIrqBind.Badge)), "mint IRQ notification");
    check(irqSetNotification(objSlot[pw(at + PlanIrqBind.Irq)], s), "bind IRQ");
  }

  // 5. Components: image, start information, thread.
  for (let c = 0; c < nComp; c++) {
    if (comp(c, PlanComp.TaskObj) == PLAN_NONE) continue; // the root task
    const task = objSlot[comp(c, PlanComp.TaskObj)];
    const thread = objSlot[comp(c, PlanComp.ThreadObj)];
    const sc = objSlot[comp(c, PlanComp.SchedObj)];
    const mv = moduleWord(comp(c, PlanComp.Module), 0);
    if ((comp(c, PlanComp.Flags) & PlanCompFlags.EagerLoad) != 0) {
      loadElf(task, mv);
      mapStack(task, comp(c, PlanComp.StackPages));
    }
    let a0 = 0;
    const si = comp(c, PlanComp.StartInfoObj);
    if (si != PLAN_NONE) {
      check(frameMap(objSlot[si], task, START_INFO_BASE, Rights.Read), "map start info");
      a0 = START_INFO_BASE;
    }
    check(threadConfigure(thread, task, UTCB_BASE, pagerSlot[c], excSlot[c]), "thread configure");
    check(scConfigure(sc, comp(c, PlanComp.BudgetTicks), comp(c, PlanComp.PeriodTicks)), "sched configure");
    check(threadBindSc(thread, sc), "bind sched");
    check(threadSetPriority(thread, comp(c, PlanComp.Priority)), "set priority");
    check(threadSetRegs(thread, peek(mv + 0x18), STACK_TOP, a0), "set regs");
  }

  // 6. Start, in start order.
  const nStart = pw(PlanHdr.StartOrderCount);
  const st = pw(PlanHdr.StartOrderTable);
  for (let k = 0; k < nStart; k++) {
    check(threadResume(objSlot[comp(pw(st + k), PlanComp.ThreadObj)]), "resume");
  }
  debugPrint("root: started ");
  debugPrintInt(nStart);
  debugPrint(" components, ");
  debugPrintInt(nextSlot);
  debugPrint(" slots used\n");

  // 7. Done: wait on a notification nobody can signal.
  const idle = retype(ObjType.Notification, 0);
  for (;;) recv(idle);
  return 0;
}
