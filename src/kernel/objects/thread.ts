// A thread: saved CPU state, scheduling parameters, IPC state. While a thread runs, its
// integer registers and pc live in the hart; `regs`/`pc` hold them only while it is switched
// out. Queue links (endpoint or notification queue, ready queue) are fields, so that blocking
// and waking never allocate.

import { KObjectBase } from './kobject.ts';
import type { Task } from './task.ts';
import type { Cap } from './cap.ts';
import type { Endpoint } from './endpoint.ts';
import type { Notification } from './notification.ts';
import type { SchedContext } from './schedcontext.ts';

/** Thread states (the values of ThreadState in src/abi/sys.ts). */
export const TS_INACTIVE = 0;
export const TS_RUNNING = 1;
export const TS_READY = 2;
export const TS_BLOCKED_SEND = 3;
export const TS_BLOCKED_RECV = 4;
export const TS_BLOCKED_REPLY = 5;
export const TS_BLOCKED_NTFN = 6;
export const TS_THROTTLED = 7;

/** What a blocked sender carries: its own message, or a fault message built by the kernel. */
export const SEND_MSG = 0;
export const SEND_PAGE_FAULT = 1;
export const SEND_EXCEPTION = 2;

export class Thread extends KObjectBase {
  readonly kind = 'thread' as const;
  readonly regs = new Int32Array(32);
  pc = 0;
  readonly fr = new Int32Array(64);
  fcsr = 0;
  /** mstatus.FS of this thread (0 off, 1 initial, 2 clean, 3 dirty). */
  fs = 1;
  task: Task | null = null;
  /** Physical address of the UTCB page (the thread object's own page) and its user address. */
  utcbVa = 0;
  prio = 0;
  mcp = 0;
  state = TS_INACTIVE;
  /** Endpoint or notification queue links, and which endpoint queue (send or receive). */
  qNext: Thread | null = null;
  qPrev: Thread | null = null;
  qSend = false;
  blockedEp: Endpoint | null = null;
  blockedNtfn: Notification | null = null;
  /** Ready-queue links. */
  rNext: Thread | null = null;
  rPrev: Thread | null = null;
  /** The one-shot reply right this thread holds: the caller waiting for its reply. */
  replyTo: Thread | null = null;
  /** While BLOCKED_REPLY: the thread holding our reply right (null while still queued). */
  replyFrom: Thread | null = null;
  /** When blocked sending: is it a call (wants a reply), and what kind of message. */
  sendIsCall = false;
  sendKind = SEND_MSG;
  /** Badge of the capability used for the pending send. */
  sendBadge = 0;
  /** Endpoint capability rights of the pending send (Grant allows capability transfer). */
  sendRights = 0;
  /** Fault state, for the fault message and for the reply. */
  faultCause = 0;
  faultAddr = 0;
  faultAccess = 0;
  /** Fault handlers: endpoint capabilities held by the kernel (copied at ThreadConfigure). */
  pager: Cap | null = null;
  excHandler: Cap | null = null;
  /** Timed wait: the cycle at which it expires, or -1. */
  timeoutAt = -1;
  tNext: Thread | null = null;
  sc: SchedContext | null = null;
  /** Round-robin timeslice left, in cycles. */
  sliceLeft = 0;
  /** Has the thread been given registers (ThreadSetRegs) and a task? */
  configured = false;

  constructor(readonly id: number, readonly utcbPa: number) {
    super();
  }
}
