// Ready queues: one FIFO per priority (0..255, higher runs first) with a bitmap of non-empty
// queues, seL4 style. The running thread is not in a queue. Links are thread fields.

import type { Thread } from './objects/thread.ts';

export class ReadyQueues {
  private readonly head: (Thread | null)[] = new Array<Thread | null>(256).fill(null);
  private readonly tail: (Thread | null)[] = new Array<Thread | null>(256).fill(null);
  private readonly bitmap = new Int32Array(8);
  count = 0;

  /** Append `t` at the tail of its priority's queue. */
  enqueue(t: Thread): void {
    const p = t.prio;
    t.rNext = null;
    t.rPrev = this.tail[p];
    if (this.tail[p] !== null) this.tail[p]!.rNext = t;
    else this.head[p] = t;
    this.tail[p] = t;
    this.bitmap[p >>> 5] |= 1 << (p & 31);
    this.count++;
  }

  /** Put `t` at the head (a preempted thread keeps its turn). */
  enqueueFront(t: Thread): void {
    const p = t.prio;
    t.rPrev = null;
    t.rNext = this.head[p];
    if (this.head[p] !== null) this.head[p]!.rPrev = t;
    else this.tail[p] = t;
    this.head[p] = t;
    this.bitmap[p >>> 5] |= 1 << (p & 31);
    this.count++;
  }

  /** Remove `t` (which must be queued at priority t.prio). */
  remove(t: Thread): void {
    const p = t.prio;
    if (t.rPrev !== null) t.rPrev.rNext = t.rNext;
    else this.head[p] = t.rNext;
    if (t.rNext !== null) t.rNext.rPrev = t.rPrev;
    else this.tail[p] = t.rPrev;
    t.rNext = t.rPrev = null;
    if (this.head[p] === null) this.bitmap[p >>> 5] &= ~(1 << (p & 31));
    this.count--;
  }

  /** Highest priority with a ready thread, or -1. */
  highest(): number {
    if (this.count === 0) return -1;
    for (let w = 7; w >= 0; w--) {
      const b = this.bitmap[w];
      if (b !== 0) return w * 32 + 31 - Math.clz32(b);
    }
    return -1;
  }

  /** Is any thread queued at priority `p`? */
  hasAt(p: number): boolean {
    return (this.bitmap[p >>> 5] & (1 << (p & 31))) !== 0;
  }

  /** Take the first thread of priority `p`. */
  pop(p: number): Thread {
    const t = this.head[p]!;
    this.remove(t);
    return t;
  }

  /** Every queued thread (for invariant checks). */
  *all(): Generator<Thread> {
    for (let p = 255; p >= 0; p--) for (let t = this.head[p]; t !== null; t = t.rNext) yield t;
  }
}
