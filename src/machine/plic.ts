// PLIC: the platform-level interrupt controller (RISC-V PLIC spec 1.0.0), QEMU virt layout,
// one hart with two contexts: context 0 = hart 0 M-mode (drives mip.MEIP, IRQ_M_EXT),
// context 1 = hart 0 S-mode (drives mip.SEIP, IRQ_S_EXT).
//
// Registers (32-bit accesses only; narrower accesses read 0 and are ignored):
//   +0x000000 + 4·n          priority of source n (1..63), 0..7; source 0 reads 0
//   +0x001000 + 4·w          pending bits of sources 32w..32w+31 (read-only)
//   +0x002000 + 0x80·c + 4·w enable bits of context c
//   +0x200000 + 0x1000·c     priority threshold of context c, 0..7
//   +0x200004 + 0x1000·c     claim (read) / complete (write) of context c
//
// Gateways are level-triggered (spec §4 "Interrupt Gateways"): source n is pending while its
// line is high and it is not claimed. A claim returns the highest-priority source that is
// pending, enabled for the context and of priority above the context's threshold (ties go to
// the lowest id), or 0; the source is then in flight (not pending) until a complete of its id
// from a context that has it enabled (spec §9: a complete for a source not enabled for the
// context is ignored). After the complete, the source is pending again if its line is still high.
// A context's interrupt output is the same condition as "claim would return non-zero".

import type { MmioDevice } from './bus.ts';
import { IRQ_M_EXT, IRQ_S_EXT, type HartInterruptPins, type IrqController } from './irq.ts';

export const PLIC_BASE = 0x0c00_0000;
export const PLIC_SIZE = 0x400_0000;
/** Sources 1..PLIC_SOURCES-1 exist; 0 means "no interrupt". */
export const PLIC_SOURCES = 64;
export const PLIC_CONTEXTS = 2;
export const PLIC_MAX_PRIORITY = 7;

export const PLIC_PRIORITY = 0x00_0000;
export const PLIC_PENDING = 0x00_1000;
export const PLIC_ENABLE = 0x00_2000;
export const PLIC_ENABLE_STRIDE = 0x80;
export const PLIC_CONTEXT = 0x20_0000;
export const PLIC_CONTEXT_STRIDE = 0x1000;

const WORDS = PLIC_SOURCES / 32;
/** The mip bit each context drives. */
const CONTEXT_PIN = [IRQ_M_EXT, IRQ_S_EXT];

export class Plic implements MmioDevice, IrqController {
  readonly name = 'plic';
  private readonly priority = new Uint8Array(PLIC_SOURCES);
  private readonly level = new Uint8Array(PLIC_SOURCES);
  private readonly inFlight = new Uint8Array(PLIC_SOURCES);
  private readonly enable: Uint32Array[] = [];
  private readonly threshold = new Uint8Array(PLIC_CONTEXTS);
  private readonly output = [false, false];

  constructor(private readonly pins: HartInterruptPins) {
    for (let c = 0; c < PLIC_CONTEXTS; c++) this.enable.push(new Uint32Array(WORDS));
    this.update();
  }

  /** Back to reset: priorities, enables and thresholds 0, nothing in flight. Line levels stay. */
  reset(): void {
    this.priority.fill(0);
    this.inFlight.fill(0);
    this.threshold.fill(0);
    for (const e of this.enable) e.fill(0);
    this.update();
  }

  /** IrqController: a device's line changed level. */
  setSourceLevel(source: number, level: boolean): void {
    if (!Number.isInteger(source) || source <= 0 || source >= PLIC_SOURCES) {
      throw new RangeError(`plic: source ${source} is not in 1..${PLIC_SOURCES - 1}`);
    }
    const v = level ? 1 : 0;
    if (this.level[source] === v) return;
    this.level[source] = v;
    this.update();
  }

  /** True when source n's gateway has an interrupt pending. */
  isPending(source: number): boolean {
    return this.level[source] === 1 && this.inFlight[source] === 0;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < PLIC_PENDING) {
      const n = offset >> 2;
      return n < PLIC_SOURCES ? this.priority[n] : 0;
    }
    if (offset < PLIC_ENABLE) {
      const w = (offset - PLIC_PENDING) >> 2;
      return w < WORDS ? this.pendingWord(w) : 0;
    }
    if (offset < PLIC_CONTEXT) {
      const rel = offset - PLIC_ENABLE;
      const c = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >> 2;
      return c < PLIC_CONTEXTS && w < WORDS ? this.enable[c][w] : 0;
    }
    const rel = offset - PLIC_CONTEXT;
    const c = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (c >= PLIC_CONTEXTS) return 0;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case 0: return this.threshold[c];
      case 4: return this.claim(c);
      default: return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    if (offset < PLIC_PENDING) {
      const n = offset >> 2;
      if (n === 0 || n >= PLIC_SOURCES) return;
      this.priority[n] = Math.min(value, PLIC_MAX_PRIORITY);
      this.update();
      return;
    }
    if (offset < PLIC_ENABLE) return; // pending bits are read-only
    if (offset < PLIC_CONTEXT) {
      const rel = offset - PLIC_ENABLE;
      const c = Math.floor(rel / PLIC_ENABLE_STRIDE);
      const w = (rel % PLIC_ENABLE_STRIDE) >> 2;
      if (c >= PLIC_CONTEXTS || w >= WORDS) return;
      this.enable[c][w] = w === 0 ? value & ~1 : value; // source 0 does not exist
      this.update();
      return;
    }
    const rel = offset - PLIC_CONTEXT;
    const c = Math.floor(rel / PLIC_CONTEXT_STRIDE);
    if (c >= PLIC_CONTEXTS) return;
    switch (rel % PLIC_CONTEXT_STRIDE) {
      case 0:
        this.threshold[c] = Math.min(value, PLIC_MAX_PRIORITY);
        this.update();
        return;
      case 4:
        this.complete(c, value);
        return;
      default:
        return;
    }
  }

  private enabled(c: number, n: number): boolean {
    return (this.enable[c][n >> 5] & (1 << (n & 31))) !== 0;
  }

  private pendingWord(w: number): number {
    let bits = 0;
    for (let i = 0; i < 32; i++) {
      const n = w * 32 + i;
      if (n !== 0 && this.isPending(n)) bits |= 1 << i;
    }
    return bits >>> 0;
  }

  /** The source a claim by context c would return, or 0. */
  private best(c: number): number {
    let best = 0;
    let bestPrio = this.threshold[c];
    for (let n = 1; n < PLIC_SOURCES; n++) {
      if (this.priority[n] > bestPrio && this.isPending(n) && this.enabled(c, n)) {
        best = n;
        bestPrio = this.priority[n];
      }
    }
    return best;
  }

  private claim(c: number): number {
    const n = this.best(c);
    if (n !== 0) {
      this.inFlight[n] = 1;
      this.update();
    }
    return n;
  }

  private complete(c: number, n: number): void {
    if (n === 0 || n >= PLIC_SOURCES || !this.enabled(c, n)) return;
    this.inFlight[n] = 0;
    this.update();
  }

  /** Drive each context's mip bit from its claimable set. */
  private update(): void {
    for (let c = 0; c < PLIC_CONTEXTS; c++) {
      const out = this.best(c) !== 0;
      if (out !== this.output[c]) {
        this.output[c] = out;
        this.pins.setInterruptPending(CONTEXT_PIN[c], out);
      }
    }
  }
}
