// The kernel's event trace: a bounded ring of fixed-size records in typed arrays (no allocation
// per event), written out as Chrome trace-event JSON (chrome://tracing, Perfetto).

export const TraceKind = {
  Ipc: 1,
  Fault: 2,
  Irq: 3,
  Switch: 4,
  Map: 5,
  Unmap: 6,
  Syscall: 7,
  Timer: 8,
  Kill: 9,
} as const;
export type TraceKindNumber = (typeof TraceKind)[keyof typeof TraceKind];

const NAMES: Record<number, string> = {
  1: 'ipc', 2: 'fault', 3: 'irq', 4: 'switch', 5: 'map', 6: 'unmap', 7: 'syscall', 8: 'timer', 9: 'kill',
};

export interface TraceEvent {
  kind: number;
  /** Virtual cycle at which it happened. */
  cycle: number;
  /** Thread id that was current, or -1. */
  thread: number;
  a: number;
  b: number;
}

export class KernelTrace {
  /** Off by default: the IPC fast path then pays one branch. */
  enabled = false;
  private readonly kind: Uint8Array;
  private readonly cycle: Float64Array;
  private readonly thread: Int32Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private head = 0;
  private count = 0;
  /** Events dropped because the ring was full (the oldest are overwritten). */
  dropped = 0;

  constructor(readonly capacity = 65536, private readonly cpuHz = 100_000_000) {
    this.kind = new Uint8Array(capacity);
    this.cycle = new Float64Array(capacity);
    this.thread = new Int32Array(capacity);
    this.a = new Int32Array(capacity);
    this.b = new Int32Array(capacity);
  }

  record(kind: TraceKindNumber, cycle: number, thread: number, a: number, b: number): void {
    const i = this.head;
    this.kind[i] = kind;
    this.cycle[i] = cycle;
    this.thread[i] = thread;
    this.a[i] = a;
    this.b[i] = b;
    this.head = i + 1 === this.capacity ? 0 : i + 1;
    if (this.count < this.capacity) this.count++;
    else this.dropped++;
  }

  /** The recorded events, oldest first. */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let k = 0; k < this.count; k++) {
      const i = (start + k) % this.capacity;
      out.push({ kind: this.kind[i], cycle: this.cycle[i], thread: this.thread[i], a: this.a[i], b: this.b[i] });
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.dropped = 0;
  }

  /** Chrome trace-event JSON: instant events ("ph":"i") on one track per thread, timestamps in
   *  virtual microseconds. */
  toChromeJson(): string {
    const evs = this.events().map((e) => ({
      name: NAMES[e.kind] ?? `kind${e.kind}`,
      ph: 'i',
      s: 't',
      ts: (e.cycle * 1e6) / this.cpuHz,
      pid: 1,
      tid: e.thread,
      args: { a: e.a >>> 0, b: e.b >>> 0 },
    }));
    return JSON.stringify({ traceEvents: evs, displayTimeUnit: 'ns', otherData: { dropped: this.dropped } });
  }
}
