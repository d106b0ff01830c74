// An IPC endpoint: two FIFO queues of threads, those waiting to send and those waiting to
// receive. At most one of the queues is non-empty. The links live in the threads (qNext/qPrev)
// so that queueing never allocates.

import { KObjectBase } from './kobject.ts';
import type { Thread } from './thread.ts';

export class Endpoint extends KObjectBase {
  readonly kind = 'endpoint' as const;
  sendHead: Thread | null = null;
  sendTail: Thread | null = null;
  recvHead: Thread | null = null;
  recvTail: Thread | null = null;
}

/** Append `t` to a queue given as [head, tail] fields of `owner`. */
export function epEnqueueSend(ep: Endpoint, t: Thread): void {
  t.qPrev = ep.sendTail;
  t.qNext = null;
  t.qSend = true;
  if (ep.sendTail !== null) ep.sendTail.qNext = t;
  else ep.sendHead = t;
  ep.sendTail = t;
}

export function epEnqueueRecv(ep: Endpoint, t: Thread): void {
  t.qPrev = ep.recvTail;
  t.qNext = null;
  t.qSend = false;
  if (ep.recvTail !== null) ep.recvTail.qNext = t;
  else ep.recvHead = t;
  ep.recvTail = t;
}

/** Remove `t` from whichever queue of `ep` holds it. */
export function epDequeue(ep: Endpoint, t: Thread): void {
  const inSend = t.qSend;
  const p = t.qPrev;
  const n = t.qNext;
  if (p !== null) p.qNext = n;
  else if (inSend) ep.sendHead = n;
  else ep.recvHead = n;
  if (n !== null) n.qPrev = p;
  else if (inSend) ep.sendTail = p;
  else ep.recvTail = p;
  t.qNext = t.qPrev = null;
}
