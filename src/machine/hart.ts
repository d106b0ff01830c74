// The RV32IMAFD hart: integer core, privilege modes M/S/U, traps and interrupts, Sv32 MMU with
// a flat software TLB. (RISC-V unprivileged spec chapters 2 "RV32I", 13 "M", 14 "A";
// privileged spec chapters 3 "Machine-Level ISA", 4 "Supervisor-Level ISA", 10.3 "Sv32".)
//
// Speed is the first lever of the whole system, so the instruction loop (`step`) is written for
// V8: every register and TLB is a typed array held in a local, the pc is a local, a trap is a
// thrown singleton caught in the same function, and nothing is allocated per instruction.
//
// Software TLB. For each access kind (read, write, execute) a flat table indexed by virtual page
// number holds a pair [tag, DRAM offset of the page]. An entry is valid when its tag equals
// `tlbGen`; a flush is `tlbGen++`, O(1) however many entries are live. Only DRAM pages are
// cached: device pages always take the slow path. Any change to the translation regime (satp,
// privilege, MPRV/MPP, SUM, MXR) flushes, so entries never need a privilege tag.
//
// The kernel attaches through `trapHandler`: when it is set, every trap calls it in TypeScript
// (with `pc` = the trapping instruction) instead of vectoring through mtvec/stvec. The handler
// changes registers, pc, satp and priv as it likes; execution resumes at `pc` when it returns.

import { MmioBus, BusError } from './bus.ts';
import type { Dram } from './memory.ts';
import type { VirtualClock } from './clock.ts';
import type { HartInterruptPins } from './irq.ts';
import type { FpuHost } from './fpu.ts';
import { execFp } from './fpu.ts';
import {
  ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, WALK_ACCESS_FAULT, WALK_PAGE_FAULT, sv32Walk,
  type Access, type WalkContext,
} from './sv32.ts';
import * as C from './csr.ts';
import { csrRead, csrWrite } from './hart-csr.ts';

/** The one trap object; `raise` fills it and the thrower throws it (no allocation per trap). */
export class TrapSignal {
  cause = 0;
  tval = 0;
}
const TRAP = new TrapSignal();

/** Fill the trap singleton and return it, for `throw raise(...)`. */
export function raise(cause: number, tval: number): TrapSignal {
  TRAP.cause = cause;
  TRAP.tval = tval | 0;
  return TRAP;
}

export type TrapHandler = (hart: Hart, cause: number, tval: number) => void;

/** Why `run` returned. */
export type StopReason = 'budget' | 'halted' | 'idle';

const TLB_PAGES = 1 << 20;

export class Hart implements FpuHost, HartInterruptPins {
  // --- architectural state -------------------------------------------------------------------
  readonly x = new Int32Array(32);
  pc = 0;
  private readonly frBuf = new ArrayBuffer(256);
  readonly fr = new Int32Array(this.frBuf);
  readonly frD = new Float64Array(this.frBuf);
  fflags = 0;
  frm = 0;
  priv = C.PRIV_M;

  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-written pending bits (SSIP, STIP, SEIP). */
  mipSw = 0;
  /** Device-driven pending bits (MSIP, MTIP, MEIP, SEIP from the PLIC). */
  mipHw = 0;
  mtvec = 0;
  stvec = 0;
  mepc = 0;
  sepc = 0;
  mcause = 0;
  scause = 0;
  mtval = 0;
  stval = 0;
  mscratch = 0;
  sscratch = 0;
  satp = 0;
  mcounteren = 0;
  scounteren = 0;
  mcountinhibit = 0;
  menvcfg = 0;
  senvcfg = 0;
  readonly pmpcfg = new Int32Array(4);
  readonly pmpaddr = new Int32Array(16);
  /** Instructions retired since power-on. Run budgets and statistics count these, so a guest
   * write to minstret moves `instretOffset` instead: minstret = instret + instretOffset. */
  instret = 0;
  instretOffset = 0;
  /** mcycle = clock.cycles + cycleOffset (a write to mcycle moves the offset, not time). */
  cycleOffset = 0;
  /** LR/SC reservation: the DRAM offset of the reserved word, or -1. With one hart, only an
   * SC (success or failure) or a trap clears it: the A chapter requires an SC to fail after
   * another hart's store, and there is none; device DMA is not tracked (docs/MACHINE.md). */
  reservation = -1;

  // --- run state -----------------------------------------------------------------------------
  /** Waiting for an interrupt (wfi, or an idle kernel). */
  waiting = false;
  /** Set by the board when the machine must stop (poweroff, fatal error). */
  halted = false;
  /** Set by anything that needs the instruction loop to return soon (device, CSR change). */
  yieldRequested = false;
  trapHandler: TrapHandler | null = null;
  /** DRAM offset of a page whose stores must be seen (HTIF tohost), or -1. Stores to it never
   * hit the TLB fast path; each one calls `onWatchedStore` after it is done. */
  watchPage = -1;
  onWatchedStore: (() => void) | null = null;

  // --- software TLB --------------------------------------------------------------------------
  tlbGen = 1;
  readonly tlbR = new Int32Array(TLB_PAGES * 2);
  readonly tlbW = new Int32Array(TLB_PAGES * 2);
  readonly tlbX = new Int32Array(TLB_PAGES * 2);
  /** Physical address of the last device access that went through `translate` (MMIO path). */
  private mmioPa = 0;
  private readonly walkCtx: WalkContext;

  readonly ram32: Int32Array;
  readonly ram16: Uint16Array;
  readonly ram8: Uint8Array;

  constructor(
    readonly dram: Dram,
    readonly bus: MmioBus,
    readonly clock: VirtualClock,
    /** CLINT mtime, for the `time` CSR. */
    public readTime: () => number = () => clock.mtime(),
  ) {
    this.ram32 = dram.i32;
    this.ram16 = dram.u16;
    this.ram8 = dram.u8;
    this.walkCtx = { dram, rootPpn: 0, priv: C.PRIV_M, sum: false, mxr: false };
    this.reset(dram.base);
  }

  /** Reset to M-mode at `pc` with registers cleared (privileged spec §3.4 "Reset"). */
  reset(pc: number): void {
    this.x.fill(0);
    this.fr.fill(0);
    this.pc = pc >>> 0;
    this.priv = C.PRIV_M;
    this.mstatus = 0;
    this.mie = this.mipSw = this.medeleg = this.mideleg = 0;
    this.satp = 0;
    this.fflags = this.frm = 0;
    this.waiting = this.halted = false;
    this.reservation = -1;
    this.flushTlb();
  }

  // --- interrupt pins (driven by CLINT and PLIC) --------------------------------------------
  setInterruptPending(bit: number, level: boolean): void {
    const m = 1 << bit;
    const old = this.mipHw;
    this.mipHw = level ? old | m : old & ~m;
    if (this.mipHw !== old) this.yieldRequested = true;
  }

  /** The value of mip as software reads it. */
  mip(): number {
    return this.mipSw | this.mipHw;
  }

  // --- TLB -----------------------------------------------------------------------------------
  /** Invalidate every cached translation (sfence.vma, satp write, privilege change). */
  flushTlb(): void {
    if (++this.tlbGen >= 0x7fff_ffff) {
      this.tlbR.fill(0);
      this.tlbW.fill(0);
      this.tlbX.fill(0);
      this.tlbGen = 1;
    }
    this.yieldRequested = true;
  }

  /** Write satp (the kernel uses this on an address-space switch). Flushes the TLB. */
  setSatp(value: number): void {
    this.satp = value & 0x803f_ffff;
    this.flushTlb();
  }

  /** Privilege used for loads and stores: MPRV in M-mode borrows MPP (§3.1.6.3). */
  private dataPriv(): number {
    if (this.priv === C.PRIV_M && (this.mstatus & C.MSTATUS_MPRV) !== 0) {
      return (this.mstatus >>> C.MSTATUS_MPP_SHIFT) & 3;
    }
    return this.priv;
  }

  /**
   * Translate `va` for `access`, filling the TLB for DRAM pages. Returns the DRAM offset of the
   * byte, or -1 for a device address (its physical address is then in `mmioPa`). Throws the
   * page-fault or access-fault trap for `access`.
   */
  translate(va: number, access: Access): number {
    va >>>= 0;
    const priv = access === ACCESS_EXEC ? this.priv : this.dataPriv();
    let pa: number;
    if ((this.satp & 0x8000_0000) === 0 || priv === C.PRIV_M) {
      pa = va;
    } else {
      const ctx = this.walkCtx;
      ctx.rootPpn = this.satp & 0x3f_ffff;
      ctx.priv = priv;
      ctx.sum = (this.mstatus & C.MSTATUS_SUM) !== 0;
      ctx.mxr = (this.mstatus & C.MSTATUS_MXR) !== 0;
      pa = sv32Walk(ctx, va, access);
      if (pa === WALK_PAGE_FAULT) {
        throw raise(access === ACCESS_EXEC ? C.CAUSE_FETCH_PAGE_FAULT : access === ACCESS_READ ? C.CAUSE_LOAD_PAGE_FAULT : C.CAUSE_STORE_PAGE_FAULT, va);
      }
      if (pa === WALK_ACCESS_FAULT || pa >= 0x1_0000_0000) throw accessFault(access, va);
    }
    const off = pa - this.dram.base;
    if (off >= 0 && off < this.dram.size) {
      if (access === ACCESS_WRITE && (off & ~0xfff) === this.watchPage) return off;
      const tlb = access === ACCESS_READ ? this.tlbR : access === ACCESS_WRITE ? this.tlbW : this.tlbX;
      const i = (va >>> 12) << 1;
      tlb[i] = this.tlbGen;
      tlb[i + 1] = off & ~0xfff;
      return off;
    }
    if (access === ACCESS_EXEC) throw accessFault(access, va);
    this.mmioPa = pa;
    return -1;
  }

  // --- memory slow paths (misaligned, device, TLB miss) --------------------------------------
  /** Load `size` bytes (1, 2, 4) at `va`, zero-extended. Throws a trap on a fault. */
  loadSlow(va: number, size: 1 | 2 | 4): number {
    va >>>= 0;
    const end = va + size - 1;
    if ((va & (size - 1)) === 0 || (va >>> 12) === (end >>> 12)) {
      const off = this.translate(va, ACCESS_READ);
      if (off >= 0) return this.readRam(off, size);
      if ((va & (size - 1)) !== 0) throw raise(C.CAUSE_MISALIGNED_LOAD, va);
      try {
        return this.bus.read(this.mmioPa, size) >>> 0;
      } catch (e) {
        if (e instanceof BusError) throw raise(C.CAUSE_LOAD_ACCESS, va);
        throw e;
      }
    }
    // Misaligned across a page boundary: translate both pages first, so a fault on either is
    // precise; tval is the address of the portion that faulted (privileged spec §3.1.16).
    const off0 = this.translate(va, ACCESS_READ);
    const off1 = this.translate((end & ~0xfff) >>> 0, ACCESS_READ);
    if (off0 < 0 || off1 < 0) throw raise(C.CAUSE_MISALIGNED_LOAD, va);
    let v = 0;
    for (let i = 0; i < size; i++) {
      const a = (va + i) >>> 0;
      const o = (a >>> 12) === (va >>> 12) ? off0 + i : off1 + (a & 0xfff);
      v |= this.ram8[o] << (8 * i);
    }
    return size === 4 ? v >>> 0 : v;
  }

  private readRam(off: number, size: number): number {
    if (size === 4 && (off & 3) === 0) return this.ram32[off >> 2] >>> 0;
    if (size === 2 && (off & 1) === 0) return this.ram16[off >> 1];
    if (size === 1) return this.ram8[off];
    const b = this.ram8;
    return size === 2 ? b[off] | (b[off + 1] << 8) : (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
  }

  /** Store the low `size` bytes of `value` at `va`. Throws a trap on a fault. */
  storeSlow(va: number, size: 1 | 2 | 4, value: number): void {
    va >>>= 0;
    const end = va + size - 1;
    if ((va & (size - 1)) === 0 || (va >>> 12) === (end >>> 12)) {
      const off = this.translate(va, ACCESS_WRITE);
      if (off >= 0) {
        this.writeRam(off, size, value);
        if ((off & ~0xfff) === this.watchPage && this.onWatchedStore !== null) this.onWatchedStore();
        return;
      }
      if ((va & (size - 1)) !== 0) throw raise(C.CAUSE_MISALIGNED_STORE, va);
      try {
        this.bus.write(this.mmioPa, size, value);
      } catch (e) {
        if (e instanceof BusError) throw raise(C.CAUSE_STORE_ACCESS, va);
        throw e;
      }
      // A device register write may raise an interrupt or stop the machine.
      this.yieldRequested = true;
      return;
    }
    const off0 = this.translate(va, ACCESS_WRITE);
    const off1 = this.translate((end & ~0xfff) >>> 0, ACCESS_WRITE);
    if (off0 < 0 || off1 < 0) throw raise(C.CAUSE_MISALIGNED_STORE, va);
    for (let i = 0; i < size; i++) {
      const a = (va + i) >>> 0;
      const o = (a >>> 12) === (va >>> 12) ? off0 + i : off1 + (a & 0xfff);
      this.ram8[o] = value >>> (8 * i);
    }
  }

  private writeRam(off: number, size: number, value: number): void {
    if (size === 4 && (off & 3) === 0) this.ram32[off >> 2] = value;
    else if (size === 2 && (off & 1) === 0) this.ram16[off >> 1] = value;
    else for (let i = 0; i < size; i++) this.ram8[off + i] = value >>> (8 * i);
  }

  // FpuHost memory interface (F/D loads and stores)
  load32(va: number): number {
    const vpn = va >>> 12;
    if (this.tlbR[vpn << 1] === this.tlbGen && (va & 3) === 0) return this.ram32[(this.tlbR[(vpn << 1) | 1] + (va & 0xfff)) >> 2];
    return this.loadSlow(va, 4) | 0;
  }
  store32(va: number, value: number): void {
    this.storeSlow(va, 4, value);
  }
  load64(va: number, out: Int32Array, i: number): void {
    // Translate both words before reading either, so a fault leaves `out` untouched.
    this.probe(va, 8, ACCESS_READ);
    const lo = this.loadSlow(va, 4);
    const hi = this.loadSlow((va + 4) >>> 0, 4);
    out[i] = lo;
    out[i + 1] = hi;
  }
  store64(va: number, src: Int32Array, i: number): void {
    this.probe(va, 8, ACCESS_WRITE);
    this.storeSlow(va, 4, src[i]);
    this.storeSlow((va + 4) >>> 0, 4, src[i + 1]);
  }
  /** Fault now if any page of [va, va+len) is not accessible for `access`. */
  private probe(va: number, len: number, access: Access): void {
    this.translate(va, access);
    const last = (va + len - 1) >>> 0;
    if ((last >>> 12) !== (va >>> 12)) {
      try {
        this.translate(last & ~0xfff, access);
      } catch (e) {
        if (e === TRAP) TRAP.tval = last & ~0xfff;
        throw e;
      }
    }
  }
  fpuEnabled(): boolean {
    return (this.mstatus & C.MSTATUS_FS) !== 0;
  }
  markFpDirty(): void {
    this.mstatus |= C.MSTATUS_FS | C.MSTATUS_SD;
  }
  illegal(inst: number): never {
    throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
  }

  // --- traps and interrupts ------------------------------------------------------------------
  /**
   * Take a trap at `pc` (the trapping instruction, or the next one to execute for an interrupt).
   * With a kernel attached, calls it; otherwise follows the privileged spec §3.1.6.1/§3.1.7:
   * delegation, xEPC/xCAUSE/xTVAL, the xPP/xPIE/xIE stack, and xTVEC (vectored for interrupts).
   */
  takeTrap(cause: number, tval: number, pc: number): void {
    this.reservation = -1;
    this.waiting = false;
    this.yieldRequested = true;
    if (this.trapHandler !== null) {
      this.pc = pc >>> 0;
      this.trapHandler(this, cause >>> 0, tval);
      return;
    }
    const isInt = (cause & C.CAUSE_INTERRUPT) !== 0;
    const code = cause & 0x1f;
    const deleg = isInt ? this.mideleg : this.medeleg;
    const prev = this.priv;
    if (prev <= C.PRIV_S && ((deleg >>> code) & 1) !== 0) {
      this.scause = cause;
      this.sepc = pc & ~3;
      this.stval = tval;
      let s = this.mstatus & ~(C.MSTATUS_SPP | C.MSTATUS_SPIE | C.MSTATUS_SIE);
      if (prev === C.PRIV_S) s |= C.MSTATUS_SPP;
      if ((this.mstatus & C.MSTATUS_SIE) !== 0) s |= C.MSTATUS_SPIE;
      this.mstatus = s;
      this.priv = C.PRIV_S;
      this.pc = (this.stvec & ~3) + (isInt && (this.stvec & 3) === 1 ? 4 * code : 0);
    } else {
      this.mcause = cause;
      this.mepc = pc & ~3;
      this.mtval = tval;
      let s = this.mstatus & ~(C.MSTATUS_MPP | C.MSTATUS_MPIE | C.MSTATUS_MIE);
      s |= prev << C.MSTATUS_MPP_SHIFT;
      if ((this.mstatus & C.MSTATUS_MIE) !== 0) s |= C.MSTATUS_MPIE;
      this.mstatus = s;
      this.priv = C.PRIV_M;
      this.pc = (this.mtvec & ~3) + (isInt && (this.mtvec & 3) === 1 ? 4 * code : 0);
    }
    this.pc >>>= 0;
    this.flushTlb();
  }

  /**
   * The interrupt to take now, as a cause number with the interrupt bit, or 0 if none.
   * Priority MEI > MSI > MTI > SEI > SSI > STI (privileged spec §3.1.9).
   */
  pendingInterrupt(): number {
    const pending = (this.mipSw | this.mipHw) & this.mie;
    if (pending === 0) return 0;
    const mEnabled = this.priv < C.PRIV_M || (this.mstatus & C.MSTATUS_MIE) !== 0;
    const sEnabled = this.priv < C.PRIV_S || (this.priv === C.PRIV_S && (this.mstatus & C.MSTATUS_SIE) !== 0);
    const m = mEnabled ? pending & ~this.mideleg : 0;
    const s = sEnabled ? pending & this.mideleg : 0;
    const pick = m !== 0 ? m : s;
    if (pick === 0) return 0;
    for (const bit of INTERRUPT_PRIORITY) {
      if ((pick >>> bit) & 1) return (C.CAUSE_INTERRUPT | bit) >>> 0;
    }
    return 0;
  }

  /** mret/sret (privileged spec §3.3.2). `pc` is the xRET instruction's address. */
  private xret(fromM: boolean): number {
    let s = this.mstatus;
    let target: number;
    if (fromM) {
      const mpp = (s >>> C.MSTATUS_MPP_SHIFT) & 3;
      s = (s & ~C.MSTATUS_MIE) | ((s & C.MSTATUS_MPIE) !== 0 ? C.MSTATUS_MIE : 0);
      s |= C.MSTATUS_MPIE;
      s &= ~C.MSTATUS_MPP; // MPP := U (the least-privileged supported mode)
      if (mpp !== C.PRIV_M) s &= ~C.MSTATUS_MPRV;
      this.priv = mpp === 2 ? C.PRIV_U : mpp;
      target = this.mepc;
    } else {
      const spp = (s & C.MSTATUS_SPP) !== 0 ? C.PRIV_S : C.PRIV_U;
      s = (s & ~C.MSTATUS_SIE) | ((s & C.MSTATUS_SPIE) !== 0 ? C.MSTATUS_SIE : 0);
      s |= C.MSTATUS_SPIE;
      s &= ~C.MSTATUS_SPP;
      s &= ~C.MSTATUS_MPRV; // returning to a mode below M clears MPRV
      this.priv = spp;
      target = this.sepc;
    }
    this.mstatus = s;
    this.flushTlb();
    return target >>> 0;
  }

  // --- the run loop ----------------------------------------------------------------------------
  /**
   * Run until `maxInsns` instructions have retired, the machine halts, or it waits for an
   * interrupt that no scheduled event will ever raise. Device events run between slices, in
   * virtual-time order.
   */
  run(maxInsns: number): StopReason {
    const clock = this.clock;
    const startInstret = this.instret;
    for (;;) {
      if (this.halted) return 'halted';
      clock.runDue();
      if (this.halted) return 'halted';
      const irq = this.pendingInterrupt();
      if (irq !== 0) {
        this.takeTrap(irq, 0, this.pc);
        continue;
      }
      if (this.waiting) {
        // wfi resumes when any enabled-by-mie interrupt is pending, whatever the global enables.
        if (((this.mipSw | this.mipHw) & this.mie) !== 0) {
          this.waiting = false;
          continue;
        }
        if (!clock.skipToNextEvent()) return 'idle';
        continue;
      }
      const left = maxInsns - (this.instret - startInstret);
      if (left <= 0) return 'budget';
      const untilEvent = clock.nextEventCycle() - clock.cycles;
      const budget = Math.max(1, Math.min(left, untilEvent, 1_000_000));
      this.yieldRequested = false;
      this.step(budget);
    }
  }

  /**
   * Execute up to `budget` instructions in the current mode, adding those that retire to
   * `instret` and to the clock. Leaves early after a trap, a SYSTEM instruction, a device access
   * or anything else that sets `yieldRequested`, so that `run` can look at interrupts and events.
   */
  step(budget: number): void {
    const x = this.x;
    const ram32 = this.ram32;
    const ram16 = this.ram16;
    const ram8 = this.ram8;
    const tlbR = this.tlbR;
    const tlbW = this.tlbW;
    const gen = this.tlbGen;
    let pc = this.pc | 0;
    let n = 0;
    // Instruction fetch: the current code page's DRAM offset minus its virtual base.
    let fetchVpn = -1;
    let fetchDelta = 0;
    try {
      while (n < budget) {
        if (pc >>> 12 !== fetchVpn) {
          if ((pc & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_FETCH, pc);
          const i = (pc >>> 12) << 1;
          const tlbX = this.tlbX;
          let off: number;
          if (tlbX[i] === gen) off = tlbX[i + 1];
          else off = this.translate(pc, ACCESS_EXEC) & ~0xfff;
          fetchVpn = pc >>> 12;
          fetchDelta = off - (pc & ~0xfff);
        }
        const inst = ram32[(pc + fetchDelta) >>> 2];
        const rd = (inst >>> 7) & 31;
        switch (inst & 0x7f) {
          case 0x13: { // OP-IMM
            const a = x[(inst >>> 15) & 31];
            const imm = inst >> 20;
            let v: number;
            switch ((inst >>> 12) & 7) {
              case 0: v = (a + imm) | 0; break;
              case 1:
                if ((inst >>> 25) !== 0) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
                v = a << (imm & 31); break;
              case 2: v = a < imm ? 1 : 0; break;
              case 3: v = (a >>> 0) < (imm >>> 0) ? 1 : 0; break;
              case 4: v = a ^ imm; break;
              case 5: {
                const f7 = inst >>> 25;
                if (f7 === 0) v = a >>> (imm & 31);
                else if (f7 === 0x20) v = a >> (imm & 31);
                else throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
                break;
              }
              case 6: v = a | imm; break;
              default: v = a & imm; break;
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            break;
          }
          case 0x33: { // OP
            const a = x[(inst >>> 15) & 31];
            const b = x[(inst >>> 20) & 31];
            const f7 = inst >>> 25;
            const f3 = (inst >>> 12) & 7;
            let v: number;
            if (f7 === 0) {
              switch (f3) {
                case 0: v = (a + b) | 0; break;
                case 1: v = a << (b & 31); break;
                case 2: v = a < b ? 1 : 0; break;
                case 3: v = (a >>> 0) < (b >>> 0) ? 1 : 0; break;
                case 4: v = a ^ b; break;
                case 5: v = a >>> (b & 31); break;
                case 6: v = a | b; break;
                default: v = a & b; break;
              }
            } else if (f7 === 0x20) {
              if (f3 === 0) v = (a - b) | 0;
              else if (f3 === 5) v = a >> (b & 31);
              else throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            } else if (f7 === 1) {
              v = mulDiv(f3, a, b);
            } else {
              throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            break;
          }
          case 0x03: { // LOAD
            const va = (x[(inst >>> 15) & 31] + (inst >> 20)) | 0;
            const i = (va >>> 12) << 1;
            const f3 = (inst >>> 12) & 7;
            let v: number;
            if (tlbR[i] === gen) {
              const off = tlbR[i + 1] + (va & 0xfff);
              switch (f3) {
                case 0: v = (ram8[off] << 24) >> 24; break;
                case 1: v = (off & 1) === 0 ? (ram16[off >> 1] << 16) >> 16 : (this.loadSlow(va, 2) << 16) >> 16; break;
                case 2: v = (off & 3) === 0 ? ram32[off >> 2] : this.loadSlow(va, 4) | 0; break;
                case 4: v = ram8[off]; break;
                case 5: v = (off & 1) === 0 ? ram16[off >> 1] : this.loadSlow(va, 2); break;
                default: throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
              }
            } else {
              // A device register may read virtual time (CLINT mtime): first commit the
              // instructions retired so far in this slice (a TLB miss or device access only).
              budget -= n;
              this.instret += n;
              this.clock.cycles += n;
              n = 0;
              switch (f3) {
                case 0: v = (this.loadSlow(va, 1) << 24) >> 24; break;
                case 1: v = (this.loadSlow(va, 2) << 16) >> 16; break;
                case 2: v = this.loadSlow(va, 4) | 0; break;
                case 4: v = this.loadSlow(va, 1); break;
                case 5: v = this.loadSlow(va, 2); break;
                default: throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
              }
              if (this.yieldRequested) budget = 0;
            }
            if (rd !== 0) x[rd] = v;
            pc = (pc + 4) | 0;
            break;
          }
          case 0x23: { // STORE
            const va = (x[(inst >>> 15) & 31] + (((inst >> 25) << 5) | ((inst >>> 7) & 31))) | 0;
            const v = x[(inst >>> 20) & 31];
            const i = (va >>> 12) << 1;
            const f3 = (inst >>> 12) & 7;
            if (f3 > 2) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            const off = tlbW[i + 1] + (va & 0xfff);
            if (tlbW[i] === gen && (off & ((1 << f3) - 1)) === 0) {
              if (f3 === 2) ram32[off >> 2] = v;
              else if (f3 === 1) ram16[off >> 1] = v;
              else ram8[off] = v;
            } else {
              budget -= n; // as for loads: a device write may use virtual time (mtime, mtimecmp)
              this.instret += n;
              this.clock.cycles += n;
              n = 0;
              this.storeSlow(va, (1 << f3) as 1 | 2 | 4, v);
              if (this.yieldRequested) budget = 0;
            }
            pc = (pc + 4) | 0;
            break;
          }
          case 0x63: { // BRANCH
            const a = x[(inst >>> 15) & 31];
            const b = x[(inst >>> 20) & 31];
            let taken: boolean;
            switch ((inst >>> 12) & 7) {
              case 0: taken = a === b; break;
              case 1: taken = a !== b; break;
              case 4: taken = a < b; break;
              case 5: taken = a >= b; break;
              case 6: taken = (a >>> 0) < (b >>> 0); break;
              case 7: taken = (a >>> 0) >= (b >>> 0); break;
              default: throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            }
            if (taken) {
              const imm = ((inst >> 31) << 12) | (((inst >>> 7) & 1) << 11) | (((inst >>> 25) & 63) << 5) | (((inst >>> 8) & 15) << 1);
              const target = (pc + imm) | 0;
              if ((target & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_FETCH, target);
              pc = target;
            } else {
              pc = (pc + 4) | 0;
            }
            break;
          }
          case 0x37: // LUI
            if (rd !== 0) x[rd] = inst & 0xfffff000;
            pc = (pc + 4) | 0;
            break;
          case 0x17: // AUIPC
            if (rd !== 0) x[rd] = (pc + (inst & 0xfffff000)) | 0;
            pc = (pc + 4) | 0;
            break;
          case 0x6f: { // JAL
            const imm = ((inst >> 31) << 20) | (inst & 0xff000) | (((inst >>> 20) & 1) << 11) | (((inst >>> 21) & 0x3ff) << 1);
            const target = (pc + imm) | 0;
            if ((target & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_FETCH, target);
            if (rd !== 0) x[rd] = (pc + 4) | 0;
            pc = target;
            break;
          }
          case 0x67: { // JALR
            if (((inst >>> 12) & 7) !== 0) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            const target = ((x[(inst >>> 15) & 31] + (inst >> 20)) & ~1) | 0;
            if ((target & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_FETCH, target);
            if (rd !== 0) x[rd] = (pc + 4) | 0;
            pc = target;
            break;
          }
          case 0x0f: // MISC-MEM: fence, fence.i (no caches to keep coherent: decode is per fetch)
            if (((inst >>> 12) & 7) > 1) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            pc = (pc + 4) | 0;
            break;
          case 0x73: // SYSTEM
            // Commit the counters first: CSR reads of cycle/instret/time must be exact.
            this.instret += n;
            this.clock.cycles += n;
            n = 0;
            if (inst === 0x73) { // ecall: trap without a throw (a throw costs ~0.5 µs in V8; the kernel's IPC needs less)
              this.takeTrap(this.priv === C.PRIV_U ? C.CAUSE_USER_ECALL : this.priv === C.PRIV_S ? C.CAUSE_SUPERVISOR_ECALL : C.CAUSE_MACHINE_ECALL, 0, pc);
              return;
            }
            pc = this.system(inst, pc);
            budget = 0; // privilege, satp or interrupt enables may have changed
            break;
          case 0x2f: // AMO
            this.amo(inst);
            pc = (pc + 4) | 0;
            break;
          case 0x07: case 0x27: case 0x43: case 0x47: case 0x4b: case 0x4f: case 0x53:
            if ((this.mstatus & C.MSTATUS_FS) === 0) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
            execFp(this, inst);
            pc = (pc + 4) | 0;
            break;
          default:
            throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
        }
        n++;
      }
    } catch (e) {
      if (e !== TRAP) throw e;
      this.instret += n;
      this.clock.cycles += n;
      this.takeTrap(TRAP.cause, TRAP.tval, pc);
      return;
    }
    this.instret += n;
    this.clock.cycles += n;
    this.pc = pc >>> 0;
  }

  /**
   * SYSTEM opcode: ecall, ebreak, xRET, wfi, sfence.vma, and the CSR instructions (Zicsr).
   * Returns the next pc. Traps are thrown (the caller's pc is the trapping instruction).
   */
  private system(inst: number, pc: number): number {
    const f3 = (inst >>> 12) & 7;
    const rd = (inst >>> 7) & 31;
    const rs1 = (inst >>> 15) & 31;
    if (f3 === 0) {
      if (rd !== 0) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
      const f12 = inst >>> 20;
      if (f12 === 0 && rs1 === 0) { // ecall
        throw raise(this.priv === C.PRIV_U ? C.CAUSE_USER_ECALL : this.priv === C.PRIV_S ? C.CAUSE_SUPERVISOR_ECALL : C.CAUSE_MACHINE_ECALL, 0);
      }
      if (f12 === 1 && rs1 === 0) throw raise(C.CAUSE_BREAKPOINT, pc); // ebreak
      if (f12 === 0x302 && rs1 === 0) { // mret
        if (this.priv !== C.PRIV_M) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
        return this.xret(true);
      }
      if (f12 === 0x102 && rs1 === 0) { // sret
        if (this.priv === C.PRIV_U || (this.priv === C.PRIV_S && (this.mstatus & C.MSTATUS_TSR) !== 0)) {
          throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
        }
        return this.xret(false);
      }
      if (f12 === 0x105 && rs1 === 0) { // wfi (§3.3.3): TW traps it below M; U-mode may not wait
        if (this.priv === C.PRIV_U || (this.priv === C.PRIV_S && (this.mstatus & C.MSTATUS_TW) !== 0)) {
          throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
        }
        this.waiting = true;
        return (pc + 4) | 0;
      }
      if ((inst >>> 25) === 0x09) { // sfence.vma (§4.2.1); TVM traps it in S-mode
        if (this.priv === C.PRIV_U || (this.priv === C.PRIV_S && (this.mstatus & C.MSTATUS_TVM) !== 0)) {
          throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
        }
        this.flushTlb();
        return (pc + 4) | 0;
      }
      throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    }
    if (f3 === 4) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    // Zicsr: CSRRW/CSRRS/CSRRC and their immediate forms. A CSRRS/CSRRC with rs1 = x0 (or
    // uimm = 0) does not write, so it may read a read-only CSR (§2.8 of the Zicsr chapter).
    const csr = inst >>> 20;
    const src = f3 >= 5 ? rs1 : this.x[rs1];
    const op = f3 & 3;
    const writes = op === 1 || rs1 !== 0;
    if (writes && (csr >>> 10) === 3) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    if (this.priv < ((csr >>> 8) & 3)) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    const old = op === 1 && rd === 0 ? 0 : csrRead(this, csr, inst);
    if (writes) {
      const v = op === 1 ? src : op === 2 ? old | src : old & ~src;
      csrWrite(this, csr, v | 0, inst);
    }
    if (rd !== 0) this.x[rd] = old | 0;
    return (pc + 4) | 0;
  }

  /** A extension: LR.W, SC.W and the AMOs (unprivileged spec chapter 14). DRAM only. */
  private amo(inst: number): void {
    const f5 = inst >>> 27;
    const rd = (inst >>> 7) & 31;
    if (((inst >>> 12) & 7) !== 2) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    const va = this.x[(inst >>> 15) & 31] >>> 0;
    const b = this.x[(inst >>> 20) & 31];
    if (f5 === 0x02) { // LR.W
      if (((inst >>> 20) & 31) !== 0) throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
      if ((va & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_LOAD, va);
      const off = this.translate(va, ACCESS_READ);
      if (off < 0) throw raise(C.CAUSE_LOAD_ACCESS, va);
      const v = this.ram32[off >> 2];
      this.reservation = off;
      if (rd !== 0) this.x[rd] = v;
      return;
    }
    if ((va & 3) !== 0) throw raise(C.CAUSE_MISALIGNED_STORE, va);
    if (f5 === 0x03) { // SC.W
      const off = this.translate(va, ACCESS_WRITE);
      if (off < 0) throw raise(C.CAUSE_STORE_ACCESS, va);
      const ok = this.reservation === off;
      this.reservation = -1;
      if (ok) this.ram32[off >> 2] = b;
      if (rd !== 0) this.x[rd] = ok ? 0 : 1;
      return;
    }
    const off = this.translate(va, ACCESS_WRITE);
    if (off < 0) throw raise(C.CAUSE_STORE_ACCESS, va);
    const a = this.ram32[off >> 2];
    let v: number;
    switch (f5) {
      case 0x01: v = b; break; // AMOSWAP
      case 0x00: v = (a + b) | 0; break; // AMOADD
      case 0x04: v = a ^ b; break;
      case 0x0c: v = a & b; break;
      case 0x08: v = a | b; break;
      case 0x10: v = a < b ? a : b; break; // AMOMIN
      case 0x14: v = a > b ? a : b; break;
      case 0x18: v = (a >>> 0) < (b >>> 0) ? a : b; break; // AMOMINU
      case 0x1c: v = (a >>> 0) > (b >>> 0) ? a : b; break;
      default: throw raise(C.CAUSE_ILLEGAL_INSTRUCTION, inst);
    }
    this.ram32[off >> 2] = v;
    if (rd !== 0) this.x[rd] = a;
  }
}

const INTERRUPT_PRIORITY = [11, 3, 7, 9, 1, 5];

function accessFault(access: Access, va: number): TrapSignal {
  return raise(access === ACCESS_EXEC ? C.CAUSE_FETCH_ACCESS : access === ACCESS_READ ? C.CAUSE_LOAD_ACCESS : C.CAUSE_STORE_ACCESS, va);
}

/** M extension (unprivileged spec chapter 13), including the division special cases of
 * Table 13.1: x/0 = -1 (all ones), x%0 = x, and signed overflow INT_MIN/-1 = INT_MIN, rem 0. */
export function mulDiv(f3: number, a: number, b: number): number {
  switch (f3) {
    case 0: return Math.imul(a, b);
    case 1: return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0; // MULH
    case 2: return (mulhu(a, b) - (a < 0 ? b : 0)) | 0; // MULHSU
    case 3: return mulhu(a, b); // MULHU
    case 4: // DIV
      if (b === 0) return -1;
      if (a === -0x8000_0000 && b === -1) return a;
      return (a / b) | 0;
    case 5: // DIVU
      if (b === 0) return -1;
      return ((a >>> 0) / (b >>> 0)) | 0;
    case 6: // REM
      if (b === 0) return a;
      if (b === -1) return 0;
      return (a % b) | 0;
    default: // REMU
      if (b === 0) return a;
      return ((a >>> 0) % (b >>> 0)) | 0;
  }
}

/** High 32 bits of the unsigned 64-bit product of a and b, from 16-bit limbs (exact in doubles). */
function mulhu(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) | 0;
}
