// A notification: an asynchronous signal word. Signal ORs the sender's badge into the word and
// wakes one waiter; wait returns (and clears) the word, blocking while it is zero; poll never
// blocks.

import { KObjectBase } from './kobject.ts';
import type { Thread } from './thread.ts';

export class Notification extends KObjectBase {
  readonly kind = 'notification' as const;
  word = 0;
  waitHead: Thread | null = null;
  waitTail: Thread | null = null;
}

export function ntfnEnqueue(n: Notification, t: Thread): void {
  t.qPrev = n.waitTail;
  t.qNext = null;
  if (n.waitTail !== null) n.waitTail.qNext = t;
  else n.waitHead = t;
  n.waitTail = t;
}

export function ntfnDequeue(n: Notification, t: Thread): void {
  const p = t.qPrev;
  const nx = t.qNext;
  if (p !== null) p.qNext = nx;
  else n.waitHead = nx;
  if (nx !== null) nx.qPrev = p;
  else n.waitTail = p;
  t.qNext = t.qPrev = null;
}
