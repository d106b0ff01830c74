// Sys.Invoke: methods of kernel objects, dispatched on the capability's type (seL4's
// decodeInvocation). Each method decodes and checks every argument first and returns an error
// with no side effect; only then does it change state. Arguments are a2..a6 of the running
// thread, results go to a1..a5; the return value is the error code for a0.

import { Err } from '../abi/errors.ts';
import {
  Method, MapFlags, UnmapFlags, DmaFlags, REG_A0, REG_A1, REG_A2, REG_A3, REG_A4, REG_A5, REG_SP,
} from '../abi/sys.ts';
import { ObjType, Rights, FRAME_MAX_SIZE_BITS, UNTYPED_MAX_SIZE_BITS, CSPACE_SLOTS, PRIO_MAX } from '../abi/caps.ts';
import { FPAGE_ORDER_MASK, FPAGE_ORDER_SHIFT, FPAGE_MAX_ORDER } from '../abi/message.ts';
import { USER_TOP } from '../abi/layout.ts';
import * as K from './cost.ts';
import { Cap } from './objects/cap.ts';
import { capDerive, capMove, capDelete, capRevoke, capKernelCopy, capDropKernel } from './cspace.ts';
import { Task } from './objects/task.ts';
import { Thread, TS_INACTIVE, TS_READY } from './objects/thread.ts';
import { Endpoint } from './objects/endpoint.ts';
import { Notification } from './objects/notification.ts';
import { Frame } from './objects/frame.ts';
import { Untyped } from './objects/untyped.ts';
import { SchedContext } from './objects/schedcontext.ts';
import type { IrqHandler } from './objects/irq.ts';
import type { DmaWindowObj } from './objects/dma.ts';
import type { Kernel } from './kernel.ts';
import { invokeDebugName } from './debug.ts';
import { IOMMU_WINDOWS } from '../machine/iommu.ts';

const USER_TOP_VPN = USER_TOP >>> 12;
const MAX_RETYPE_COUNT = 256;

/** Invoke the method in x[a1] on the capability in slot x[a0] of `t`'s space, with the
 * arguments in x[a2..a6]; results go to x[a1..a5]. `x` is the thread's register file (the
 * hart's for the running thread). Returns the error code. */
export function invoke(k: Kernel, t: Thread, x: Int32Array): number {
  const slot = x[REG_A0];
  const method = x[REG_A1];
  const cap = k.lookup(t, slot);
  if (cap === null) return k.lookupErr(t, slot);
  k.board.clock.cycles += K.COST_INVOKE;
  if (method === Method.DebugName) return invokeDebugName(k, t, cap, x);
  switch (cap.type) {
    case ObjType.Task: return invokeTask(k, t, cap, method, x);
    case ObjType.Untyped: return invokeUntyped(k, t, cap, method, x);
    case ObjType.Frame:
    case ObjType.IoMem: return invokeFrame(k, t, cap, method, x);
    case ObjType.Thread: return invokeThread(k, t, cap, method, x);
    case ObjType.SchedContext: return invokeSc(k, cap, method, x);
    case ObjType.IrqHandler: return invokeIrq(k, t, cap, method, x);
    case ObjType.DmaWindow: return invokeDma(k, t, cap, method, x);
    default: return Err.WrongType; // endpoints and notifications have no methods
  }
}

function needWrite(cap: Cap): boolean {
  return (cap.rights & Rights.Write) !== 0;
}

function invokeTask(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  const task = cap.obj as Task;
  const self = t.task!;
  if (method === Method.CapIdentify) {
    const s = x[REG_A2];
    if (s <= 0 || s >= task.cspace.length) return Err.InvalidSlot;
    if ((cap.rights & Rights.Read) === 0) return Err.NoRights;
    const c = task.cspace[s];
    x[REG_A1] = c === null ? 0 : c.type;
    x[REG_A2] = c === null ? 0 : c.rights;
    x[REG_A3] = c === null ? 0 : c.badge;
    return Err.Ok;
  }
  if (!needWrite(cap)) return Err.NoRights;
  switch (method) {
    case Method.CapCopy: return capDerive(k, self, x[REG_A2], task, x[REG_A3], x[REG_A4], null);
    case Method.CapMint: return capDerive(k, self, x[REG_A2], task, x[REG_A3], x[REG_A4], x[REG_A5]);
    case Method.CapMove: return capMove(k, self, x[REG_A2], task, x[REG_A3]);
    case Method.CapDelete: {
      const s = x[REG_A2];
      if (s <= 0 || s >= task.cspace.length) return Err.InvalidSlot;
      const c = task.cspace[s];
      if (c === null) return Err.EmptySlot;
      capDelete(k, c);
      return Err.Ok;
    }
    case Method.CapRevoke: {
      const s = x[REG_A2];
      if (s <= 0 || s >= task.cspace.length) return Err.InvalidSlot;
      const c = task.cspace[s];
      if (c === null) return Err.EmptySlot;
      capRevoke(k, c);
      return Err.Ok;
    }
    case Method.TaskMap: {
      const fp = x[REG_A2];
      const dstVa = x[REG_A3];
      const order = (fp >>> FPAGE_ORDER_SHIFT) & FPAGE_ORDER_MASK;
      if (order > FPAGE_MAX_ORDER) return Err.InvalidArg;
      const n = 1 << order;
      const srcVpn = fp >>> 12;
      const dstVpn = dstVa >>> 12;
      if ((dstVa & 0xfff) !== 0 || (srcVpn & (n - 1)) !== 0) return Err.InvalidArg;
      if (srcVpn + n > USER_TOP_VPN || dstVpn + n > USER_TOP_VPN) return Err.InvalidArg;
      const done = k.mapPages(self, srcVpn, task, dstVpn, n, fp & 7, (x[REG_A4] & MapFlags.Grant) !== 0);
      if (done === -2) return Err.NoMemory; // an L2 table cannot be allocated: nothing mapped
      if (done < 0) return Err.InvalidArg;
      x[REG_A1] = done;
      return done === 0 ? Err.NotMapped : Err.Ok;
    }
    case Method.TaskUnmap: {
      const fp = x[REG_A2];
      const order = (fp >>> FPAGE_ORDER_SHIFT) & FPAGE_ORDER_MASK;
      if (order > FPAGE_MAX_ORDER) return Err.InvalidArg;
      const n = 1 << order;
      const vpn = fp >>> 12;
      if ((vpn & (n - 1)) !== 0 || vpn + n > USER_TOP_VPN) return Err.InvalidArg;
      const self = (x[REG_A3] & UnmapFlags.Self) !== 0;
      const nodes = [];
      if (n > task.maps.size) {
        for (const [v, node] of task.maps) if (v >= vpn && v < vpn + n) nodes.push(node);
      } else {
        for (let i = 0; i < n; i++) {
          const node = task.maps.get(vpn + i);
          if (node !== undefined) nodes.push(node);
        }
      }
      for (const node of nodes) {
        k.board.clock.cycles += K.COST_MAP_PAGE;
        if (self) {
          k.vm.removeTree(node);
        } else {
          k.vm.removeChildren(node);
        }
      }
      x[REG_A1] = nodes.length;
      return Err.Ok;
    }
    default:
      return Err.InvalidCall;
  }
}

/** Object size in bytes, or -1 if the type cannot be made by retype. */
function objectBytes(type: number, sizeBits: number): number {
  switch (type) {
    case ObjType.Frame: return sizeBits >= 0 && sizeBits <= FRAME_MAX_SIZE_BITS ? 4096 << sizeBits : -1;
    case ObjType.Untyped: return sizeBits >= 0 && sizeBits <= UNTYPED_MAX_SIZE_BITS ? 4096 * 2 ** sizeBits : -1;
    case ObjType.Task: case ObjType.Thread: return 4096;
    case ObjType.Endpoint: case ObjType.Notification: case ObjType.SchedContext: return 64;
    default: return -1;
  }
}

function invokeUntyped(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  if (method !== Method.UntypedRetype) return Err.InvalidCall;
  if (!needWrite(cap)) return Err.NoRights;
  const u = cap.obj as Untyped;
  const type = x[REG_A2];
  const sizeBits = x[REG_A3];
  const count = x[REG_A4];
  const dst = x[REG_A5];
  const size = objectBytes(type, sizeBits);
  if (size < 0) return Err.InvalidArg;
  if (count <= 0 || count > MAX_RETYPE_COUNT) return Err.InvalidArg;
  const task = t.task!;
  if (dst <= 0 || dst + count > task.cspace.length) return Err.InvalidSlot;
  for (let i = 0; i < count; i++) if (task.cspace[dst + i] !== null) return Err.SlotOccupied;
  const align = Math.min(size, 4096 * 1024);
  const start = Math.ceil(u.watermark / align) * align;
  if (start + size * count > u.pages * 4096) return Err.NoMemory;
  for (let i = 0; i < count; i++) {
    const pa = u.pa + start + i * size;
    const c = makeObject(k, type, pa, size);
    c.obj.untyped = u;
    u.live++;
    c.linkUnder(cap);
    k.cspaceInsert(task, dst + i, c);
    k.board.clock.cycles += K.COST_RETYPE;
  }
  u.watermark = start + size * count;
  return Err.Ok;
}

function zero(k: Kernel, pa: number, bytes: number): void {
  const off = pa - k.board.dram.base;
  k.board.dram.u8.fill(0, off, off + bytes);
  k.board.clock.cycles += K.COST_ZERO_PAGE * Math.ceil(bytes / 4096);
}

function makeObject(k: Kernel, type: number, pa: number, size: number): Cap {
  switch (type) {
    case ObjType.Frame:
      zero(k, pa, size);
      return new Cap(type, new Frame(pa, size / 4096, false), Rights.Read | Rights.Write | Rights.Exec, 0);
    case ObjType.Untyped:
      return new Cap(type, new Untyped(pa, size / 4096), Rights.Read | Rights.Write, 0);
    case ObjType.Task: {
      zero(k, pa, 4096);
      const task = new Task(k.newId(), pa, CSPACE_SLOTS);
      k.tasks.add(task);
      return new Cap(type, task, Rights.Read | Rights.Write, 0);
    }
    case ObjType.Thread: {
      zero(k, pa, 4096);
      const th = new Thread(k.newId(), pa);
      k.threads.add(th);
      return new Cap(type, th, Rights.Read | Rights.Write, 0);
    }
    case ObjType.Endpoint:
      return new Cap(type, new Endpoint(), Rights.Read | Rights.Write | Rights.Grant, 0);
    case ObjType.Notification:
      return new Cap(type, new Notification(), Rights.Read | Rights.Write, 0);
    default:
      return new Cap(type, new SchedContext(), Rights.Read | Rights.Write, 0);
  }
}

function invokeFrame(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  const f = cap.obj as Frame;
  switch (method) {
    case Method.FrameInfo:
      x[REG_A1] = f.pa;
      x[REG_A2] = f.pages;
      return Err.Ok;
    case Method.FrameUnmap:
      if (cap.maps !== null) while (cap.maps.length > 0) k.vm.removeTree(cap.maps[cap.maps.length - 1]);
      return Err.Ok;
    case Method.FrameMap: {
      const tc = k.lookup(t, x[REG_A2]);
      if (tc === null) return k.lookupErr(t, x[REG_A2]);
      if (tc.type !== ObjType.Task) return Err.WrongType;
      if (!needWrite(tc)) return Err.NoRights;
      const task = tc.obj as Task;
      const va = x[REG_A3];
      const rights = x[REG_A4] & cap.rights & (Rights.Read | Rights.Write | Rights.Exec);
      const vpn = va >>> 12;
      if ((va & 0xfff) !== 0 || vpn + f.pages > USER_TOP_VPN) return Err.InvalidArg;
      if ((rights & Rights.Read) === 0 && (rights & Rights.Exec) === 0) return Err.NoRights;
      for (let i = 0; i < f.pages; i++) if (task.utcbs.has(vpn + i)) return Err.InvalidArg;
      if (!k.vm.canAllocL2(task, k.vm.l2Needed(task, vpn, f.pages))) return Err.NoMemory;
      if (cap.maps === null) cap.maps = [];
      for (let i = 0; i < f.pages; i++) {
        // A mapping at this page derived from this very capability is replaced like any other.
        const node = k.vm.mapPage(task, vpn + i, f.pa + i * 4096, rights, null, cap);
        if (node === null) return Err.NoMemory;
        cap.maps.push(node);
        k.board.clock.cycles += K.COST_MAP_PAGE;
      }
      return Err.Ok;
    }
    default:
      return Err.InvalidCall;
  }
}

function invokeThread(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  const th = cap.obj as Thread;
  if (method === Method.ThreadReadRegs) {
    if ((cap.rights & Rights.Read) === 0) return Err.NoRights;
    const regs = k.regsOf(th);
    x[REG_A1] = th === k.current ? k.hart.pc : th.pc;
    x[REG_A2] = regs[REG_SP];
    x[REG_A3] = th.state;
    return Err.Ok;
  }
  if (!needWrite(cap)) return Err.NoRights;
  switch (method) {
    case Method.ThreadConfigure: {
      const tc = k.lookup(t, x[REG_A2]);
      if (tc === null) return k.lookupErr(t, x[REG_A2]);
      if (tc.type !== ObjType.Task) return Err.WrongType;
      if (!needWrite(tc)) return Err.NoRights;
      const task = tc.obj as Task;
      const utcbVa = x[REG_A3];
      if ((utcbVa & 0xfff) !== 0 || (utcbVa >>> 12) >= USER_TOP_VPN) return Err.InvalidArg;
      if (task.utcbs.has(utcbVa >>> 12)) return Err.SlotOccupied;
      const handlers: (Cap | null)[] = [null, null];
      for (let i = 0; i < 2; i++) {
        const s = x[REG_A4 + i];
        if (s === 0) continue;
        const hc = k.lookup(t, s);
        if (hc === null) return k.lookupErr(t, s);
        if (hc.type !== ObjType.Endpoint) return Err.WrongType;
        if ((hc.rights & Rights.Write) === 0) return Err.NoRights;
        handlers[i] = hc;
      }
      if (th.state !== TS_INACTIVE) return Err.IllegalState;
      if (!k.vm.canAllocL2(task, k.vm.l2Needed(task, utcbVa >>> 12, 1))) return Err.NoMemory;
      // Commit.
      if (th.task !== null) {
        k.vm.unmapKernelPage(th.task, th.utcbVa >>> 12);
        const i = th.task.threads.indexOf(th);
        if (i >= 0) th.task.threads.splice(i, 1);
      }
      if (!k.vm.mapKernelPage(task, utcbVa >>> 12, th.utcbPa)) return Err.NoMemory;
      th.task = task;
      th.utcbVa = utcbVa;
      task.threads.push(th);
      if (th.pager !== null) capDropKernel(k, th.pager);
      if (th.excHandler !== null) capDropKernel(k, th.excHandler);
      th.pager = handlers[0] === null ? null : capKernelCopy(handlers[0]);
      th.excHandler = handlers[1] === null ? null : capKernelCopy(handlers[1]);
      th.configured = true;
      return Err.Ok;
    }
    case Method.ThreadSetRegs:
      if (th.state !== TS_INACTIVE) return Err.IllegalState;
      th.pc = x[REG_A2];
      th.regs[REG_SP] = x[REG_A3];
      th.regs[10] = x[REG_A4];
      return Err.Ok;
    case Method.ThreadSetPriority: {
      const p = x[REG_A2];
      if (p < 0 || p > PRIO_MAX || p > t.mcp) return Err.InvalidArg;
      if (th.state === TS_READY) {
        k.ready.remove(th);
        th.prio = p;
        k.ready.enqueue(th);
      } else {
        th.prio = p;
      }
      return Err.Ok;
    }
    case Method.ThreadSetMcp: {
      const p = x[REG_A2];
      if (p < 0 || p > PRIO_MAX || p > t.mcp) return Err.InvalidArg;
      th.mcp = p;
      return Err.Ok;
    }
    case Method.ThreadResume:
      if (!th.configured || th.task === null) return Err.IllegalState;
      if (th.state === TS_INACTIVE) k.makeReady(th);
      return Err.Ok;
    case Method.ThreadSuspend:
      k.suspend(th);
      return Err.Ok;
    case Method.ThreadBindSc: {
      const s = x[REG_A2];
      if (s === 0) {
        if (th.sc !== null) {
          const sc = th.sc;
          sc.thread = null;
          th.sc = null;
          if (th.state === 7 /* throttled */) k.makeReady(th);
        }
        return Err.Ok;
      }
      const sc = k.lookup(t, s);
      if (sc === null) return k.lookupErr(t, s);
      if (sc.type !== ObjType.SchedContext) return Err.WrongType;
      if (!needWrite(sc)) return Err.NoRights;
      const obj = sc.obj as SchedContext;
      if (obj.thread !== null || th.sc !== null) return Err.Busy;
      obj.thread = th;
      th.sc = obj;
      return Err.Ok;
    }
    default:
      return Err.InvalidCall;
  }
}

function invokeSc(k: Kernel, cap: Cap, method: number, x: Int32Array): number {
  const sc = cap.obj as SchedContext;
  const cpt = k.board.clock.cyclesPerTick;
  if (method === Method.ScInfo) {
    x[REG_A1] = Math.max(0, Math.floor(sc.remaining / cpt));
    x[REG_A2] = sc.exhaustions;
    return Err.Ok;
  }
  if (method !== Method.ScConfigure) return Err.InvalidCall;
  if (!needWrite(cap)) return Err.NoRights;
  const budget = x[REG_A2];
  const period = x[REG_A3];
  if (budget <= 0 || period <= 0 || budget > period) return Err.InvalidArg;
  sc.budget = budget * cpt;
  sc.period = period * cpt;
  sc.remaining = sc.budget;
  sc.windowStart = -1;
  const i = k.throttled.indexOf(sc);
  if (i >= 0) k.throttled.splice(i, 1);
  sc.replenishAt = -1;
  if (sc.thread !== null && sc.thread.state === 7 /* throttled */) k.makeReady(sc.thread);
  return Err.Ok;
}

function invokeIrq(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  const h = cap.obj as IrqHandler;
  switch (method) {
    case Method.IrqSetNotification: {
      const nc = k.lookup(t, x[REG_A2]);
      if (nc === null) return k.lookupErr(t, x[REG_A2]);
      if (nc.type !== ObjType.Notification) return Err.WrongType;
      if ((nc.rights & Rights.Write) === 0) return Err.NoRights;
      if (h.notification !== null) k.irqUnbind(h);
      h.notification = nc.obj as Notification;
      h.badge = nc.badge;
      k.irqNtfnCaps.set(h, capKernelCopy(nc));
      k.plicEnable(h.source, true);
      return Err.Ok;
    }
    case Method.IrqAck:
      if (!h.pending) return Err.IllegalState;
      h.pending = false;
      k.plicComplete(h.source);
      return Err.Ok;
    case Method.IrqClear:
      if (h.notification !== null) k.irqUnbind(h);
      k.plicEnable(h.source, false);
      return Err.Ok;
    default:
      return Err.InvalidCall;
  }
}

function invokeDma(k: Kernel, t: Thread, cap: Cap, method: number, x: Int32Array): number {
  const d = cap.obj as DmaWindowObj;
  const w = x[REG_A2];
  if (w < 0 || w >= IOMMU_WINDOWS) return Err.InvalidArg;
  if (!needWrite(cap)) return Err.NoRights;
  switch (method) {
    case Method.DmaClearWindow:
      k.dmaClose(d.device, w, d);
      return Err.Ok;
    case Method.DmaSetWindow: {
      const fc = k.lookup(t, x[REG_A3]);
      if (fc === null) return k.lookupErr(t, x[REG_A3]);
      if (fc.type !== ObjType.Frame) return Err.WrongType;
      const flags = x[REG_A4];
      if ((flags & ~(DmaFlags.DeviceRead | DmaFlags.DeviceWrite)) !== 0 || flags === 0) return Err.InvalidArg;
      if ((flags & DmaFlags.DeviceRead) !== 0 && (fc.rights & Rights.Read) === 0) return Err.NoRights;
      if ((flags & DmaFlags.DeviceWrite) !== 0 && (fc.rights & Rights.Write) === 0) return Err.NoRights;
      const f = fc.obj as Frame;
      k.dmaClose(d.device, w, d);
      k.board.iommu.setWindow(d.device, w, {
        base: f.pa, size: f.pages * 4096,
        read: (flags & DmaFlags.DeviceRead) !== 0, write: (flags & DmaFlags.DeviceWrite) !== 0,
      });
      d.windows[w] = fc;
      if (fc.dma === null) fc.dma = [];
      fc.dma.push({ device: d.device, window: w });
      return Err.Ok;
    }
    default:
      return Err.InvalidCall;
  }
}

