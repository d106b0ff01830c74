// CLINT: the core-local interruptor of the SiFive layout (as on QEMU virt), for hart 0.
//
// Registers (32-bit accesses only; narrower accesses read 0 and are ignored; 64-bit registers
// are two words, low word at the lower address, as the bus splits RV64 accesses):
//   +0x0000 msip        bit 0 drives the hart's MSIP (mip.MSIP, IRQ_M_SOFT)
//   +0x4000 mtimecmp    64-bit; MTIP (mip.MTIP, IRQ_M_TIMER) is the level mtime >= mtimecmp
//   +0xbff8 mtime       64-bit, counts at the clock's timerHz
// Other harts' msip/mtimecmp words read 0 and ignore writes.
//
// Timing contract: mtime is derived from the VirtualClock (clock.mtime()) plus an offset that a
// guest write to mtime sets; writing mtime never moves virtual time itself (clock.cycles), so
// other devices' scheduled events are unaffected. MTIP rises in a clock event at the exact cycle
// at which mtime reaches mtimecmp, and is recomputed on every write to mtime or mtimecmp (it is
// lowered at once when mtimecmp is moved beyond mtime). mtimecmp resets to all-ones (no timer
// interrupt until a program sets it). The hart's `time` CSR reads `mtime()`.

import type { MmioDevice } from './bus.ts';
import type { ClockEvent, VirtualClock } from './clock.ts';
import { IRQ_M_SOFT, IRQ_M_TIMER, type HartInterruptPins } from './irq.ts';

export const CLINT_BASE = 0x0200_0000;
export const CLINT_SIZE = 0x1_0000;

export const CLINT_MSIP = 0x0000;
export const CLINT_MTIMECMP = 0x4000;
export const CLINT_MTIME = 0xbff8;

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffff_ffffn;

export class Clint implements MmioDevice {
  readonly name = 'clint';
  private msip = 0;
  private mtimecmp = MASK64;
  /** mtime = clock.mtime() + offset (mod 2^64). */
  private offset = 0n;
  private timerEvent: ClockEvent | null = null;

  constructor(
    private readonly clock: VirtualClock,
    private readonly pins: HartInterruptPins,
  ) {
    this.update();
  }

  /** Back to the reset state: msip 0, mtimecmp all-ones, mtime = clock time. */
  reset(): void {
    this.msip = 0;
    this.pins.setInterruptPending(IRQ_M_SOFT, false);
    this.mtimecmp = MASK64;
    this.offset = 0n;
    this.update();
  }

  /** Current mtime, for the hart's `time` CSR (exact below 2^53 ticks). */
  mtime(): number {
    return Number(this.mtimeBig());
  }

  /** Current mtime as a 64-bit value. */
  mtimeBig(): bigint {
    return (BigInt(this.clock.mtime()) + this.offset) & MASK64;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    switch (offset) {
      case CLINT_MSIP: return this.msip;
      case CLINT_MTIMECMP: return Number(this.mtimecmp & MASK32);
      case CLINT_MTIMECMP + 4: return Number(this.mtimecmp >> 32n);
      case CLINT_MTIME: return Number(this.mtimeBig() & MASK32);
      case CLINT_MTIME + 4: return Number(this.mtimeBig() >> 32n);
      default: return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = BigInt(value >>> 0);
    switch (offset) {
      case CLINT_MSIP:
        this.msip = value & 1;
        this.pins.setInterruptPending(IRQ_M_SOFT, this.msip !== 0);
        return;
      case CLINT_MTIMECMP:
        this.mtimecmp = (this.mtimecmp & ~MASK32 & MASK64) | v;
        this.update();
        return;
      case CLINT_MTIMECMP + 4:
        this.mtimecmp = (this.mtimecmp & MASK32) | (v << 32n);
        this.update();
        return;
      case CLINT_MTIME:
        this.setMtime((this.mtimeBig() & ~MASK32 & MASK64) | v);
        return;
      case CLINT_MTIME + 4:
        this.setMtime((this.mtimeBig() & MASK32) | (v << 32n));
        return;
      default:
        return;
    }
  }

  private setMtime(value: bigint): void {
    this.offset = value - BigInt(this.clock.mtime());
    this.update();
  }

  /** Recompute MTIP now and schedule the event at which mtime reaches mtimecmp. */
  private update(): void {
    this.clock.cancel(this.timerEvent);
    this.timerEvent = null;
    const clockTicks = BigInt(this.clock.mtime());
    // Unwrapped comparison: mtime wraps only after 2^64 ticks (58 000 years at 10 MHz).
    if (clockTicks + this.offset >= this.mtimecmp) {
      this.pins.setInterruptPending(IRQ_M_TIMER, true);
      return;
    }
    this.pins.setInterruptPending(IRQ_M_TIMER, false);
    const target = this.mtimecmp - this.offset; // clock ticks at which mtime == mtimecmp
    const cycle = Number(target) * this.clock.cyclesPerTick;
    if (!Number.isSafeInteger(cycle)) return; // beyond 2^53 cycles: never, in practice
    this.timerEvent = this.clock.at(cycle, () => {
      this.timerEvent = null;
      this.update();
    });
  }
}
