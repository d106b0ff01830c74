// The CSR file of the hart: reads and writes with their WARL rules and privilege checks
// (privileged spec chapters 2, 3.1 and 4.1; unprivileged spec "Zicntr" and the F chapter's
// fcsr). The caller (the SYSTEM instruction) has already checked the CSR's own privilege bits
// and read-only-ness; what remains here are the per-register rules.

import type { Hart } from './hart.ts';
import { raise } from './hart.ts';
import * as C from './csr.ts';

const ILLEGAL = C.CAUSE_ILLEGAL_INSTRUCTION;

/** 64-bit counters as doubles: low and high words. */
const lo32 = (v: number) => v % 0x1_0000_0000 | 0;
const hi32 = (v: number) => Math.floor(v / 0x1_0000_0000) | 0;

/** Counter CSRs (cycle/time/instret and hpmcounters) from below M need mcounteren, and from U
 * also scounteren (§3.1.11). */
function checkCounterAccess(h: Hart, csr: number, inst: number): void {
  const bit = 1 << (csr & 31);
  if (h.priv < C.PRIV_M && (h.mcounteren & bit) === 0) throw raise(ILLEGAL, inst);
  if (h.priv === C.PRIV_U && (h.scounteren & bit) === 0) throw raise(ILLEGAL, inst);
}

function checkFs(h: Hart, inst: number): void {
  if ((h.mstatus & C.MSTATUS_FS) === 0) throw raise(ILLEGAL, inst);
}

function mcycle(h: Hart): number {
  return h.clock.cycles + h.cycleOffset;
}

function minstret(h: Hart): number {
  return h.instret + h.instretOffset;
}

/** Read CSR `csr`; throws illegal-instruction (tval = `inst`) for an unknown or forbidden one. */
export function csrRead(h: Hart, csr: number, inst: number): number {
  switch (csr) {
    case C.CSR.fflags: checkFs(h, inst); return h.fflags;
    case C.CSR.frm: checkFs(h, inst); return h.frm;
    case C.CSR.fcsr: checkFs(h, inst); return (h.frm << 5) | h.fflags;
    case C.CSR.cycle: checkCounterAccess(h, csr, inst); return lo32(mcycle(h));
    case C.CSR.cycleh: checkCounterAccess(h, csr, inst); return hi32(mcycle(h));
    case C.CSR.time: checkCounterAccess(h, csr, inst); return lo32(h.readTime());
    case C.CSR.timeh: checkCounterAccess(h, csr, inst); return hi32(h.readTime());
    case C.CSR.instret: checkCounterAccess(h, csr, inst); return lo32(minstret(h));
    case C.CSR.instreth: checkCounterAccess(h, csr, inst); return hi32(minstret(h));
    case C.CSR.sstatus: return sstatus(h);
    case C.CSR.sie: return h.mie & h.mideleg;
    case C.CSR.stvec: return h.stvec;
    case C.CSR.scounteren: return h.scounteren;
    case C.CSR.senvcfg: return h.senvcfg;
    case C.CSR.sscratch: return h.sscratch;
    case C.CSR.sepc: return h.sepc;
    case C.CSR.scause: return h.scause;
    case C.CSR.stval: return h.stval;
    case C.CSR.sip: return h.mip() & h.mideleg;
    case C.CSR.satp:
      if (h.priv === C.PRIV_S && (h.mstatus & C.MSTATUS_TVM) !== 0) throw raise(ILLEGAL, inst);
      return h.satp;
    case C.CSR.mvendorid: case C.CSR.marchid: case C.CSR.mimpid: case C.CSR.mhartid: case C.CSR.mconfigptr:
      return 0;
    case C.CSR.mstatus: return mstatusValue(h);
    case C.CSR.mstatush: return 0; // little-endian M and S, no MBE/SBE
    case C.CSR.misa: return C.MISA;
    case C.CSR.medeleg: return h.medeleg;
    case C.CSR.mideleg: return h.mideleg;
    case C.CSR.mie: return h.mie;
    case C.CSR.mtvec: return h.mtvec;
    case C.CSR.mcounteren: return h.mcounteren;
    case C.CSR.menvcfg: return h.menvcfg;
    case C.CSR.menvcfgh: return 0;
    case C.CSR.mcountinhibit: return h.mcountinhibit;
    case C.CSR.mscratch: return h.mscratch;
    case C.CSR.mepc: return h.mepc;
    case C.CSR.mcause: return h.mcause;
    case C.CSR.mtval: return h.mtval;
    case C.CSR.mip: return h.mip();
    case C.CSR.mtinst: case C.CSR.mtval2: case C.CSR.mseccfg: case C.CSR.mseccfgh: return 0;
    case C.CSR.mcycle: return lo32(mcycle(h));
    case C.CSR.mcycleh: return hi32(mcycle(h));
    case C.CSR.minstret: return lo32(minstret(h));
    case C.CSR.minstreth: return hi32(minstret(h));
    case C.CSR.tselect: case C.CSR.tdata1: case C.CSR.tdata2: case C.CSR.tdata3: return 0;
  }
  if (csr >= 0x3a0 && csr <= 0x3af) return csr < 0x3a4 ? h.pmpcfg[csr - 0x3a0] : 0;
  if (csr >= 0x3b0 && csr <= 0x3ef) return csr < 0x3c0 ? h.pmpaddr[csr - 0x3b0] : 0;
  // hpmcounter3..31 (+h) read zero where permitted; mhpmcounter/mhpmevent read zero.
  if ((csr >= 0xc03 && csr <= 0xc1f) || (csr >= 0xc83 && csr <= 0xc9f)) {
    checkCounterAccess(h, csr, inst);
    return 0;
  }
  if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) || (csr >= 0x323 && csr <= 0x33f)) return 0;
  throw raise(ILLEGAL, inst);
}

/** Write `value` to CSR `csr` with its WARL rules. */
export function csrWrite(h: Hart, csr: number, value: number, inst: number): void {
  switch (csr) {
    case C.CSR.fflags: checkFs(h, inst); h.fflags = value & 0x1f; h.markFpDirty(); return;
    case C.CSR.frm: checkFs(h, inst); h.frm = value & 7; h.markFpDirty(); return;
    case C.CSR.fcsr: checkFs(h, inst); h.fflags = value & 0x1f; h.frm = (value >>> 5) & 7; h.markFpDirty(); return;
    case C.CSR.sstatus:
      setMstatus(h, (h.mstatus & ~C.SSTATUS_MASK) | (value & C.SSTATUS_MASK));
      return;
    case C.CSR.sie:
      h.mie = (h.mie & ~h.mideleg) | (value & h.mideleg);
      h.yieldRequested = true;
      return;
    case C.CSR.stvec: h.stvec = tvec(value); return;
    case C.CSR.scounteren: h.scounteren = value; return;
    case C.CSR.senvcfg: return; // no optional features (FIOM, CBIE, ...) implemented
    case C.CSR.sscratch: h.sscratch = value; return;
    case C.CSR.sepc: h.sepc = value & ~3; return;
    case C.CSR.scause: h.scause = value; return;
    case C.CSR.stval: h.stval = value; return;
    case C.CSR.sip: {
      // Only SSIP is writable through sip, and only when delegated (§4.1.3).
      const m = h.mideleg & (1 << 1);
      h.mipSw = (h.mipSw & ~m) | (value & m);
      h.yieldRequested = true;
      return;
    }
    case C.CSR.satp:
      if (h.priv === C.PRIV_S && (h.mstatus & C.MSTATUS_TVM) !== 0) throw raise(ILLEGAL, inst);
      // ASIDLEN = 0: the ASID field reads as zero. MODE is Bare (0) or Sv32 (1).
      h.setSatp(value & 0x803f_ffff);
      return;
    case C.CSR.mstatus: setMstatus(h, value); return;
    case C.CSR.mstatush: return;
    case C.CSR.misa: return; // fixed: the extensions cannot be switched off
    case C.CSR.medeleg: h.medeleg = value & C.MEDELEG_WRITABLE; return;
    case C.CSR.mideleg: h.mideleg = value & C.S_INTERRUPTS; h.yieldRequested = true; return;
    case C.CSR.mie: h.mie = value & C.ALL_INTERRUPTS; h.yieldRequested = true; return;
    case C.CSR.mtvec: h.mtvec = tvec(value); return;
    case C.CSR.mcounteren: h.mcounteren = value; return;
    case C.CSR.menvcfg: case C.CSR.menvcfgh: return;
    // The counters cannot be stopped, so every bit is read-only zero, as if the register were
    // not implemented (privileged spec, "Machine Counter-Inhibit Register"): a bit that read
    // back as set would promise an inhibit that does not happen.
    case C.CSR.mcountinhibit: return;
    case C.CSR.mscratch: h.mscratch = value; return;
    case C.CSR.mepc: h.mepc = value & ~3; return;
    case C.CSR.mcause: h.mcause = value; return;
    case C.CSR.mtval: h.mtval = value; return;
    case C.CSR.mip:
      h.mipSw = (h.mipSw & ~C.MIP_WRITABLE) | (value & C.MIP_WRITABLE);
      h.yieldRequested = true;
      return;
    case C.CSR.mtinst: case C.CSR.mtval2: case C.CSR.mseccfg: case C.CSR.mseccfgh: return;
    // A CSR instruction that writes a counter does so "instead of the increment" (unprivileged
    // spec, Zicsr chapter): the writing instruction still retires and adds one cycle and one
    // instret after this, so the offsets aim one below the value written.
    case C.CSR.mcycle: h.cycleOffset = withLo(mcycle(h), value) - h.clock.cycles - 1; return;
    case C.CSR.mcycleh: h.cycleOffset = withHi(mcycle(h), value) - h.clock.cycles - 1; return;
    case C.CSR.minstret: h.instretOffset = withLo(minstret(h), value) - h.instret - 1; return;
    case C.CSR.minstreth: h.instretOffset = withHi(minstret(h), value) - h.instret - 1; return;
    case C.CSR.tselect: case C.CSR.tdata1: case C.CSR.tdata2: case C.CSR.tdata3: return; // no triggers
  }
  if (csr >= 0x3a0 && csr <= 0x3af) {
    if (csr < 0x3a4) h.pmpcfg[csr - 0x3a0] = value;
    return;
  }
  if (csr >= 0x3b0 && csr <= 0x3ef) {
    if (csr < 0x3c0) h.pmpaddr[csr - 0x3b0] = value;
    return;
  }
  if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0xb83 && csr <= 0xb9f) || (csr >= 0x323 && csr <= 0x33f)) return;
  throw raise(ILLEGAL, inst);
}

function withLo(v: number, lo: number): number {
  return Math.floor(v / 0x1_0000_0000) * 0x1_0000_0000 + (lo >>> 0);
}
function withHi(v: number, hi: number): number {
  return (hi >>> 0) * 0x1_0000_0000 + (v % 0x1_0000_0000);
}

/** xtvec: MODE 0 (direct) or 1 (vectored); the reserved modes 2 and 3 fall back to direct. */
function tvec(v: number): number {
  return (v & 3) >= 2 ? v & ~3 : v;
}

function mstatusValue(h: Hart): number {
  const s = h.mstatus & ~C.MSTATUS_SD;
  return (s & C.MSTATUS_FS) === C.MSTATUS_FS ? s | C.MSTATUS_SD : s;
}

function sstatus(h: Hart): number {
  return mstatusValue(h) & C.SSTATUS_MASK;
}

/** Write mstatus: MPP keeps its old value if given the reserved encoding 2 (WARL). Changes to
 * MPRV, MPP, SUM or MXR alter translation, so the TLB is flushed; interrupt enables may make an
 * interrupt takeable, so the instruction loop yields. */
function setMstatus(h: Hart, value: number): void {
  let v = value & C.MSTATUS_WRITABLE;
  if (((v >>> C.MSTATUS_MPP_SHIFT) & 3) === 2) v = (v & ~C.MSTATUS_MPP) | (h.mstatus & C.MSTATUS_MPP);
  const old = h.mstatus;
  h.mstatus = v;
  const vmBits = C.MSTATUS_MPRV | C.MSTATUS_MPP | C.MSTATUS_SUM | C.MSTATUS_MXR;
  if (((old ^ v) & vmBits) !== 0) h.flushTlb();
  h.yieldRequested = true;
}
