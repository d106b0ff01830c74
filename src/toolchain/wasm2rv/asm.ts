// The per-function code buffer: RV32 instruction words (encoded by src/toolchain/rv32/encode.ts),
// labels with branch fix-ups, and the records the linker needs (call relocations, trap sites).
//
// Conditional branches reach +-4 KiB (RISC-V unprivileged spec 2.5, B-type). The code generator
// emits them short; when a label turns out to be too far, the branch's serial number is added
// to `longBranches` and the function is generated again, that branch then being emitted as an
// inverted short branch over a `jal` (+-1 MiB). Generation is deterministic, so serial numbers
// are stable between attempts and the set only grows (a fixed point is reached).

import * as E from '../rv32/encode.ts';
import type { TrapKind } from './traps.ts';

export type Cond = 'eq' | 'ne' | 'lt' | 'ge' | 'ltu' | 'geu';

export const INVERT: Record<Cond, Cond> = { eq: 'ne', ne: 'eq', lt: 'ge', ge: 'lt', ltu: 'geu', geu: 'ltu' };

const BRANCH: Record<Cond, (rs1: number, rs2: number, off: number) => number> = {
  eq: E.beq, ne: E.bne, lt: E.blt, ge: E.bge, ltu: E.bltu, geu: E.bgeu,
};

export interface Label {
  /** Byte offset in the function, once bound. */
  pos: number;
  refs: { at: number; cond: Cond | null; rs1: number; rs2: number; serial: number }[];
}

/** A call to patch at link time: `jal ra, target` at byte offset `at`. */
export interface CallReloc {
  at: number;
  /** A wasm function index, or a runtime routine name. */
  target: number | string;
  /** Link register (ra for normal calls, t2 for light runtime routines). */
  link: number;
}

export interface TrapSite {
  /** Byte offset in the function of the `ebreak` or of the faulting memory access. */
  at: number;
  kind: TrapKind;
  wasmOff: number;
}

export class BranchRangeError extends Error {}

export class Asm {
  readonly words: number[] = [];
  readonly calls: CallReloc[] = [];
  readonly traps: TrapSite[] = [];
  private serial = 0;
  /** Serials of branches found out of range in this attempt. */
  readonly tooFar = new Set<number>();

  constructor(readonly longBranches: ReadonlySet<number>) {}

  get pos(): number {
    return this.words.length * 4;
  }

  emit(w: number): void {
    this.words.push(w | 0);
  }

  label(): Label {
    return { pos: -1, refs: [] };
  }

  bind(l: Label): void {
    l.pos = this.pos;
    for (const r of l.refs) this.patch(r, l.pos);
    l.refs.length = 0;
  }

  private patch(r: Label['refs'][number], target: number): void {
    const off = target - r.at;
    if (r.cond === null) {
      this.words[r.at >> 2] = E.jal(r.rs1, off);
    } else if (off < -4096 || off > 4094) {
      this.tooFar.add(r.serial);
      this.words[r.at >> 2] = E.ebreak();
    } else {
      this.words[r.at >> 2] = BRANCH[r.cond](r.rs1, r.rs2, off);
    }
  }

  private ref(l: Label, cond: Cond | null, rs1: number, rs2: number, serial: number): void {
    const r = { at: this.pos, cond, rs1, rs2, serial };
    this.emit(0);
    if (l.pos >= 0) this.patch(r, l.pos);
    else l.refs.push(r);
  }

  /** Branch to `l` when `rs1 cond rs2`. */
  branch(cond: Cond, rs1: number, rs2: number, l: Label): void {
    const serial = this.serial++;
    if (this.longBranches.has(serial)) {
      this.emit(BRANCH[INVERT[cond]](rs1, rs2, 8));
      this.ref(l, null, 0, 0, serial);
    } else {
      this.ref(l, cond, rs1, rs2, serial);
    }
  }

  /** Unconditional jump to `l` (jal x0). */
  jump(l: Label): void {
    this.ref(l, null, 0, 0, -1);
  }

  /** A short forward branch over the next `n` instructions (always in range). */
  skip(cond: Cond, rs1: number, rs2: number, n: number): void {
    this.emit(BRANCH[cond](rs1, rs2, 4 * (n + 1)));
  }

  /** `ebreak` recorded as a trap site of `kind`. */
  trap(kind: TrapKind, wasmOff: number): void {
    this.traps.push({ at: this.pos, kind, wasmOff });
    this.emit(E.ebreak());
  }

  /** Trap unless `rs1 cond rs2`: a branch over an `ebreak` (one executed instruction). */
  trapUnless(cond: Cond, rs1: number, rs2: number, kind: TrapKind, wasmOff: number): void {
    this.skip(cond, rs1, rs2, 1);
    this.trap(kind, wasmOff);
  }

  /** `jal link, target`, patched by the linker. */
  call(target: number | string, link = 1): void {
    this.calls.push({ at: this.pos, target, link });
    this.emit(0);
  }

  /** Mark the next emitted instruction as a memory access that may fault out of bounds. */
  accessSite(wasmOff: number): void {
    this.traps.push({ at: this.pos, kind: 'oob_memory', wasmOff });
  }

  // --- multi-instruction helpers ---------------------------------------------------------------

  /** rd = imm (any 32-bit value): addi, lui, or lui+addi (spec 2.4, "LUI"). */
  li(rd: number, imm: number): void {
    imm |= 0;
    if (imm >= -2048 && imm < 2048) {
      this.emit(E.addi(rd, 0, imm));
      return;
    }
    const lo = (imm << 20) >> 20;
    const hi = ((imm - lo) >>> 12) & 0xfffff;
    this.emit(E.lui(rd, hi));
    if (lo !== 0) this.emit(E.addi(rd, rd, lo));
  }

  mv(rd: number, rs: number): void {
    if (rd !== rs) this.emit(E.addi(rd, rs, 0));
  }

  /** rd = rs + imm for any imm, using `tmp` when it does not fit 12 bits. */
  addImm(rd: number, rs: number, imm: number, tmp: number): void {
    imm |= 0;
    if (imm >= -2048 && imm < 2048) {
      if (imm !== 0 || rd !== rs) this.emit(E.addi(rd, rs, imm));
    } else {
      this.li(tmp, imm);
      this.emit(E.add(rd, rs, tmp));
    }
  }

  /**
   * A load or store `op(reg, off(base))` for any offset: large offsets go through `tmp`
   * (`tmp` may equal `reg` for loads, never for stores).
   */
  mem(op: (r: number, base: number, off: number) => number, reg: number, base: number, off: number, tmp: number): void {
    if (off >= -2048 && off < 2048) {
      this.emit(op(reg, base, off));
    } else {
      const lo = (off << 20) >> 20;
      const hi = ((off - lo) >>> 12) & 0xfffff;
      this.emit(E.lui(tmp, hi));
      this.emit(E.add(tmp, tmp, base));
      this.emit(op(reg, tmp, lo));
    }
  }
}
