// Virtual time.
//
// Time in l4ts is not the host's: it advances with the work the hart does, so that the same
// image and the same inputs give the same timings, run after run. The hart adds the cycles it
// retires (one per instruction, plus whatever the kernel charges for its own work); the
// platform timer (CLINT mtime) counts at `timerHz`, derived from cycles at `cpuHz`. When the
// hart waits for an interrupt (wfi, or an idle kernel) time jumps to the next scheduled event.
//
// Devices schedule callbacks at a virtual time; callbacks run in (time, scheduling order), which
// is what makes device completions deterministic.

export const DEFAULT_CPU_HZ = 100_000_000; // 100 MHz: one instruction = 10 ns of virtual time
export const DEFAULT_TIMER_HZ = 10_000_000; // CLINT mtime at 10 MHz, as on QEMU virt

export interface ClockEvent {
  readonly at: number; // cycle at which it fires
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

export class VirtualClock {
  /** Cycles elapsed since reset. A double: exact up to 2^53 cycles (~1000 days at 100 MHz). */
  cycles = 0;
  readonly cpuHz: number;
  readonly timerHz: number;
  /** Cycles per mtime tick (an integer >= 1). */
  readonly cyclesPerTick: number;
  private events: ClockEvent[] = [];
  private seq = 0;

  constructor(cpuHz = DEFAULT_CPU_HZ, timerHz = DEFAULT_TIMER_HZ) {
    if (!(cpuHz >= timerHz) || cpuHz % timerHz !== 0) {
      throw new Error(`clock: cpuHz ${cpuHz} must be a whole multiple of timerHz ${timerHz}`);
    }
    this.cpuHz = cpuHz;
    this.timerHz = timerHz;
    this.cyclesPerTick = cpuHz / timerHz;
  }

  /** Current CLINT mtime (ticks at timerHz). */
  mtime(): number {
    return Math.floor(this.cycles / this.cyclesPerTick);
  }

  /** Set mtime (a write to the CLINT's mtime register): moves time, never backwards in cycles
   * for pending events' sake — events scheduled in cycles keep their absolute cycle. */
  setMtime(ticks: number): void {
    this.cycles = ticks * this.cyclesPerTick;
  }

  /** Virtual nanoseconds since reset. */
  nanos(): number {
    return (this.cycles * 1e9) / this.cpuHz;
  }

  /** Cycle at which mtime reaches `ticks`. */
  cycleOfTick(ticks: number): number {
    return ticks * this.cyclesPerTick;
  }

  /** Run `fn` when `cycles` reaches `atCycle` (immediately at the next `runDue` if already
   * past). Returns the event so that it can be cancelled. */
  at(atCycle: number, fn: () => void): ClockEvent {
    const ev: ClockEvent = { at: Math.max(atCycle, this.cycles), seq: this.seq++, fn, cancelled: false };
    // Keep `events` sorted by (at, seq); the list is short (a few per device).
    let i = this.events.length;
    while (i > 0 && this.events[i - 1].at > ev.at) i--;
    this.events.splice(i, 0, ev);
    return ev;
  }

  /** Run `fn` after `delayCycles` cycles. */
  after(delayCycles: number, fn: () => void): ClockEvent {
    return this.at(this.cycles + delayCycles, fn);
  }

  cancel(ev: ClockEvent | null): void {
    if (ev === null || ev.cancelled) return;
    ev.cancelled = true;
    const i = this.events.indexOf(ev);
    if (i >= 0) this.events.splice(i, 1);
  }

  /** Cycle of the earliest pending event, or Infinity. */
  nextEventCycle(): number {
    return this.events.length > 0 ? this.events[0].at : Infinity;
  }

  /** Run every event due at or before the current cycle, in order. Returns how many ran. */
  runDue(): number {
    let n = 0;
    while (this.events.length > 0 && this.events[0].at <= this.cycles) {
      const ev = this.events.shift()!;
      ev.cancelled = true;
      ev.fn();
      n++;
    }
    return n;
  }

  /** Jump to the next event (the hart is waiting for an interrupt). Returns false when there is
   * no event to wait for — the machine would sleep forever. */
  skipToNextEvent(): boolean {
    const next = this.nextEventCycle();
    if (next === Infinity) return false;
    if (next > this.cycles) this.cycles = next;
    return true;
  }
}
