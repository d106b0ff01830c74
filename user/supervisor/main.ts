// The supervisor (docs/USERLAND.md "Supervisor"): the exception handler of every component
// whose restart policy is not `never`, and the one that reports and stops any component (but
// the root task, the memory manager and itself) whose page fault the memory manager refuses,
// whatever its policy (`never`: stopped for good, not restarted). It
//   - emulates their runtime calls (RtCall.*: exit, abort, trace, console.*, heartbeat),
//   - turns faults (illegal instruction, ebreak = wasm trap, access faults, page faults the
//     memory manager refused, a runtime call it does not know) and missed heartbeats into a
//     stop of the component,
//   - restarts a stopped component as its policy says (on-failure / always, maxRestarts,
//     exponential backoff in virtual time) with the same capability space, a reset address
//     space (the memory manager's Reset) and fresh start registers,
//   - logs every event on the kernel debug output, one line each (`l4ts boot` prefixes the
//     component's name: `[supervisor] crashy: restarted, generation 2, ...`).
//
// Start information (src/abi/bootplan.ts StartHdr, SupClient) at START_INFO_BASE: the endpoint
// the faults arrive on (badge = the component's badge), and per component its thread slot (RW;
// W for policy `never`), and for a restartable one its task (W) slot, policy, backoff and start
// registers.
//
// Time: the board's virtual clock, read with now() (the l4.time intrinsic: the time CSR, in
// mtime ticks, the unit of the receive timeout). Every deadline (a restart's backoff, a
// heartbeat's 2 x period) is an absolute time; the receive waits until the nearest one, and
// every message as well as every timeout is followed by a look at what is due, so a component
// that beats often cannot delay the detection of another one's hang.

import {
  recv, reply, setMr, getMr, msgInfo, msgLabel, badge, threadSuspend, threadSetRegs,
  threadResume, debugPrint, Err, ExcReply, FaultLabel, RtCall, CompSlot,
} from "../lib/l4";
import {
  START_INFO_BASE, START_INFO_MAGIC, StartHdr, SupClient, PlanRestart, NAME_WORDS,
} from "../lib/bootplan";
import { peek } from "../lib/syscalls";
import { now } from "../lib/time";
import { MemoryClient } from "../lib/gen/memory";
import { SUPERVISOR_HEARTBEAT, SUPERVISOR_MEM_FAULT } from "../lib/gen/supervisor";

const memory = new MemoryClient(<u32>CompSlot.Memory);
/** The period assumed for IPC heartbeats (supervisor.heartbeat) when none was declared. */
const DEFAULT_HB_MS = 100;
/** A heartbeat is missed after HB_GRACE periods without one. */
const HB_GRACE = 2;

const RUNNING = 0;
const WAITING = 1; // stopped, restart scheduled
const STOPPED = 2; // finished, or no more restarts

class Comp {
  badge: i32 = 0;
  thread: i32 = 0;
  task: i32 = 0;
  policy: i32 = 0;
  maxRestarts: i32 = 0;
  backoffInitialMs: i32 = 0;
  backoffMaxMs: i32 = 0;
  entry: i32 = 0;
  stack: i32 = 0;
  arg: i32 = 0;
  name: string = "";
  generation: i32 = 1;
  restarts: i32 = 0;
  state: i32 = RUNNING;
  restartAt: i64 = 0;
  hbTicks: i64 = 0;
  lastBeat: i64 = 0;
}

const comps = new Array<Comp>();
/** mtime ticks per millisecond (StartHdr.TimerHz / 1000). */
let ticksPerMs: i64 = 10_000;

function word(i: i32): i32 {
  return peek(START_INFO_BASE + 4 * i);
}

function nameAt(w: i32): string {
  let n = word(w);
  if (n < 0) n = 0;
  if (n > (NAME_WORDS - 1) * 4) n = (NAME_WORDS - 1) * 4;
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode((word(w + 1 + (i >> 2)) >>> ((i & 3) * 8)) & 0xff);
  return s;
}

function hex(v: i32): string {
  return "0x" + (<u32>v).toString(16);
}

/** One line on the kernel debug output (`l4ts boot` shows it as `[supervisor] ...`). */
function log(s: string): void {
  debugPrint(s + "\n");
}

function policyName(p: i32): string {
  return p == PlanRestart.Always ? "always" : p == PlanRestart.OnFailure ? "on-failure" : "never";
}

function find(b: i32): Comp | null {
  for (let i = 0; i < comps.length; i++) if (comps[i].badge == b) return comps[i];
  return null;
}

function accessName(access: i32): string {
  return access == 1 ? "write" : access == 2 ? "execute" : "read";
}

/** supervisor.memFault `reason` (user/idl/supervisor.json). */
function refusalName(reason: i32): string {
  switch (reason) {
    case 0: return "not in its memory";
    case 1: return "out of memory (quota exhausted)";
    case 2: return "access not allowed there";
    default: return "reason " + reason.toString();
  }
}

function causeName(cause: i32): string {
  switch (cause) {
    case 0: return "misaligned fetch";
    case 1: return "fetch access fault";
    case 2: return "illegal instruction";
    case 3: return "wasm trap (ebreak)";
    case 4: return "misaligned load";
    case 5: return "load access fault";
    case 6: return "misaligned store";
    case 7: return "store access fault";
    case 12: return "instruction page fault";
    case 13: return "load page fault";
    case 15: return "store page fault";
    default: return "exception " + cause.toString();
  }
}

function backoffMs(c: Comp): i64 {
  let d = <i64>c.backoffInitialMs;
  for (let k = 1; k < c.restarts && d < <i64>c.backoffMaxMs; k++) d *= 2;
  if (d > <i64>c.backoffMaxMs) d = <i64>c.backoffMaxMs;
  return d;
}

/**
 * `c` has stopped (its thread is suspended or killed): decide by policy. `failed`: a fault, a
 * missed heartbeat or a nonzero exit.
 */
function stopped(c: Comp, failed: bool): void {
  c.hbTicks = 0;
  const again = c.policy == PlanRestart.Always || (c.policy == PlanRestart.OnFailure && failed);
  if (!again) {
    c.state = STOPPED;
    log(c.name + ": stopped for good (generation " + c.generation.toString() + ", policy " + policyName(c.policy) + ")");
    return;
  }
  if (c.policy == PlanRestart.OnFailure && c.restarts >= c.maxRestarts) {
    c.state = STOPPED;
    log(c.name + ": gave up after " + c.restarts.toString() + " restarts (maxRestarts " + c.maxRestarts.toString() + ")");
    return;
  }
  c.restarts++;
  const ms = backoffMs(c);
  c.state = WAITING;
  c.restartAt = now() + ms * ticksPerMs;
  log(c.name + ": restart " + c.restarts.toString() + (c.policy == PlanRestart.OnFailure ? "/" + c.maxRestarts.toString() : "") + " in " + ms.toString() + " ms");
}

/** Stop the running or faulted thread of `c` (the kernel aborts its pending calls). */
function suspend(c: Comp): void {
  const e = threadSuspend(c.thread);
  if (e != Err.Ok) log(c.name + ": ThreadSuspend failed (error " + e.toString() + ")");
}

function restart(c: Comp): void {
  // A fresh address space: the memory manager forgets every page it gave the component and
  // serves its image again from the first fault.
  const e = memory.reset(<u32>c.badge);
  const fresh = e == Err.Ok;
  let e2 = threadSetRegs(c.thread, c.entry, c.stack, c.arg);
  if (e2 == Err.Ok) e2 = threadResume(c.thread);
  c.generation++;
  c.state = RUNNING;
  c.lastBeat = now();
  if (e2 != Err.Ok) {
    c.state = STOPPED;
    log(c.name + ": cannot restart (error " + e2.toString() + ")");
    return;
  }
  log(c.name + ": restarted, generation " + c.generation.toString() + (fresh ? ", fresh address space" :
    ", address space kept (memory.reset: error " + e.toString() + ")"));
}

function resume(pc: i32, a0: i32): void {
  setMr(0, pc + 4);
  setMr(1, a0);
  reply(msgInfo(ExcReply.Resume, 2));
}

function kill(): void {
  reply(msgInfo(ExcReply.Kill, 0));
}

function exception(c: Comp): void {
  const cause = getMr(0);
  const pc = getMr(1);
  const tval = getMr(2);
  if (cause == 8) {
    const a0 = getMr(4);
    const n = getMr(11); // a7
    if (n == RtCall.Exit) {
      suspend(c); // a quiet stop (the kernel reports a Kill reply as a kill); drops the reply right
      log(c.name + ": exited with status " + a0.toString() + " (generation " + c.generation.toString() + ")");
      stopped(c, a0 != 0);
      return;
    }
    if (n == RtCall.Heartbeat) {
      c.hbTicks = <i64>(a0 < 0 ? 0 : a0) * ticksPerMs;
      c.lastBeat = now();
      resume(pc, 0);
      return;
    }
    if (n == RtCall.Trace || n == RtCall.Seed || (n >= RtCall.ConsoleLog && n <= RtCall.ConsoleDebug)) {
      resume(pc, 0); // printing goes through the console service; these are ignored
      return;
    }
    kill();
    if (n == RtCall.Abort) {
      log(c.name + ": aborted at line " + getMr(6).toString() + " column " + getMr(7).toString() + " (generation " + c.generation.toString() + ")");
    } else {
      log(c.name + ": unknown runtime call " + hex(n) + " at pc " + hex(pc) + " (generation " + c.generation.toString() + ")");
    }
    stopped(c, true);
    return;
  }
  kill();
  log(c.name + ": " + causeName(cause) + " at pc " + hex(pc) + ", tval " + hex(tval) + " (generation " + c.generation.toString() + ")");
  stopped(c, true);
}

/** Restarts that are due, heartbeats that are missed (as of now()). */
function due(): void {
  const t = now();
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    if (c.state == WAITING && c.restartAt <= t) {
      restart(c);
    } else if (c.state == RUNNING && c.hbTicks > 0 && t - c.lastBeat > HB_GRACE * c.hbTicks) {
      suspend(c);
      log(c.name + ": missed its heartbeat (period " + (c.hbTicks / ticksPerMs).toString() + " ms, generation " + c.generation.toString() + ")");
      stopped(c, true);
    }
  }
}

/** Ticks until the next restart or heartbeat deadline, 0 = none. */
function nextTimeout(): i64 {
  let at: i64 = -1;
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i];
    let t: i64 = -1;
    if (c.state == WAITING) t = c.restartAt;
    else if (c.state == RUNNING && c.hbTicks > 0) t = c.lastBeat + HB_GRACE * c.hbTicks + 1;
    if (t >= 0 && (at < 0 || t < at)) at = t;
  }
  if (at < 0) return 0;
  const d = at - now();
  return d < 1 ? 1 : d > 0x7fff_ffff ? 0x7fff_ffff : d;
}

export function main(): i32 {
  if (word(StartHdr.Magic) != START_INFO_MAGIC) {
    log("no start information; nothing to supervise");
    return 1;
  }
  const ep = word(StartHdr.Endpoint);
  const hz = word(StartHdr.TimerHz);
  if (hz >= 1000) ticksPerMs = <i64>(hz / 1000);
  const n = word(StartHdr.EntryCount);
  const ew = word(StartHdr.EntryWords);
  const tab = word(StartHdr.EntryTable);
  let names = "";
  let watched = "";
  let restartable = 0;
  for (let i = 0; i < n; i++) {
    const w = tab + i * ew;
    const c = new Comp();
    c.badge = word(w + SupClient.Badge);
    c.thread = word(w + SupClient.ThreadSlot);
    c.task = word(w + SupClient.TaskSlot);
    c.policy = word(w + SupClient.Policy);
    c.maxRestarts = word(w + SupClient.MaxRestarts);
    c.backoffInitialMs = word(w + SupClient.BackoffInitialMs);
    c.backoffMaxMs = word(w + SupClient.BackoffMaxMs);
    c.entry = word(w + SupClient.EntryPc);
    c.stack = word(w + SupClient.StackTop);
    c.arg = word(w + SupClient.StartArg);
    c.name = nameAt(w + SupClient.Name);
    comps.push(c);
    if (c.policy == PlanRestart.Never) watched += (watched.length > 0 ? ", " : "") + c.name;
    else {
      names += (restartable > 0 ? ", " : "") + c.name + " (" + policyName(c.policy) + ")";
      restartable++;
    }
  }
  log("supervising " + restartable.toString() + ": " + names +
    (watched.length > 0 ? "; refused page faults of: " + watched + " (never restarted)" : ""));
  for (;;) {
    const timeout = nextTimeout();
    const e = recv(ep, <i32>timeout);
    if (e == Err.Timeout) {
      due();
      continue;
    }
    if (e != Err.Ok) continue;
    const label = msgLabel();
    if (label == SUPERVISOR_MEM_FAULT) {
      // From the memory manager (a badge that is none of ours): a fault it refused, of any
      // component but the root task, the memory manager and us; policy never included.
      const m = find(getMr(0));
      if (find(badge()) !== null) {
        log("memory fault report from " + badge().toString() + ", not the memory manager, ignored");
      } else if (m === null) {
        log("page fault of badge " + getMr(0).toString() + " at " + hex(getMr(1)) + " (pc " + hex(getMr(2)) + ") refused by the memory manager: " +
          refusalName(getMr(4)) + "; not a component of ours, left blocked");
      } else if (m.state == RUNNING) {
        suspend(m);
        log(m.name + ": " + accessName(getMr(3)) + " page fault at " + hex(getMr(1)) + " (pc " + hex(getMr(2)) + ") refused by the memory manager: " +
          refusalName(getMr(4)) + " (generation " + m.generation.toString() + ")");
        stopped(m, true);
      }
      due();
      continue;
    }
    const c = find(badge());
    if (c === null) {
      if (label == FaultLabel.Exception) kill();
      log("fault from unknown badge " + badge().toString() + " ignored");
      continue;
    }
    if (label == FaultLabel.Exception) {
      exception(c);
    } else if (label == FaultLabel.PageFault) {
      // Only a page fault the memory manager refused comes here.
      suspend(c);
      log(c.name + ": page fault at " + hex(getMr(0)) + " (pc " + hex(getMr(1)) + ") refused (generation " + c.generation.toString() + ")");
      stopped(c, true);
    } else if (label == SUPERVISOR_HEARTBEAT) {
      if (c.hbTicks == 0) c.hbTicks = <i64>DEFAULT_HB_MS * ticksPerMs;
      c.lastBeat = now();
      setMr(0, Err.Ok);
      reply(msgInfo(0, 1));
    } else {
      log(c.name + ": unexpected message label " + hex(label) + " ignored");
    }
    due();
  }
  return 0;
}
