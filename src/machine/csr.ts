// CSR numbers and mstatus fields of the RV32 hart (RISC-V privileged spec, chapter 2 "Control
// and Status Registers" Tables 2.2-2.5, and §3.1.6 "Machine Status Registers").

export const CSR = {
  // Unprivileged floating-point and counters
  fflags: 0x001, frm: 0x002, fcsr: 0x003,
  cycle: 0xc00, time: 0xc01, instret: 0xc02,
  cycleh: 0xc80, timeh: 0xc81, instreth: 0xc82,
  // Supervisor
  sstatus: 0x100, sie: 0x104, stvec: 0x105, scounteren: 0x106, senvcfg: 0x10a,
  sscratch: 0x140, sepc: 0x141, scause: 0x142, stval: 0x143, sip: 0x144, satp: 0x180,
  // Machine information
  mvendorid: 0xf11, marchid: 0xf12, mimpid: 0xf13, mhartid: 0xf14, mconfigptr: 0xf15,
  // Machine trap setup and handling
  mstatus: 0x300, misa: 0x301, medeleg: 0x302, mideleg: 0x303, mie: 0x304, mtvec: 0x305,
  mcounteren: 0x306, menvcfg: 0x30a, mstatush: 0x310, menvcfgh: 0x31a, mcountinhibit: 0x320,
  mscratch: 0x340, mepc: 0x341, mcause: 0x342, mtval: 0x343, mip: 0x344,
  mtinst: 0x34a, mtval2: 0x34b,
  // Memory protection (accepted, not enforced: see docs/MACHINE.md)
  pmpcfg0: 0x3a0, pmpaddr0: 0x3b0, mseccfg: 0x747, mseccfgh: 0x757,
  // Machine counters
  mcycle: 0xb00, minstret: 0xb02, mcycleh: 0xb80, minstreth: 0xb82,
  // Debug/trace trigger registers: tselect reads as "no triggers" (riscv-tests probe it)
  tselect: 0x7a0, tdata1: 0x7a1, tdata2: 0x7a2, tdata3: 0x7a3,
} as const;

// mstatus bits (RV32 layout)
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_MPP_SHIFT = 11;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS_SHIFT = 13;
export const MSTATUS_FS = 3 << 13;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;
export const MSTATUS_SD = 1 << 31;

/** Bits of mstatus that software can write (the rest are read-only zero or derived). */
export const MSTATUS_WRITABLE =
  MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;

/** The view of mstatus that sstatus gives (privileged spec §4.1.1). */
export const SSTATUS_MASK =
  MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SD;

/** misa for RV32IMAFD with S and U modes: MXL=1 (32-bit), extensions A D F I M S U. */
export const MISA =
  (1 << 30) | (1 << 0) | (1 << 3) | (1 << 5) | (1 << 8) | (1 << 12) | (1 << 18) | (1 << 20);

// Privilege levels
export const PRIV_U = 0;
export const PRIV_S = 1;
export const PRIV_M = 3;

// Exception causes (privileged spec Table 3.6)
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL_INSTRUCTION = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8;
export const CAUSE_SUPERVISOR_ECALL = 9;
export const CAUSE_MACHINE_ECALL = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12;
export const CAUSE_LOAD_PAGE_FAULT = 13;
export const CAUSE_STORE_PAGE_FAULT = 15;
/** Interrupt causes have this bit set in mcause/scause. */
export const CAUSE_INTERRUPT = 0x8000_0000;

/** Interrupts that S-mode may see through sip/sie (SSIP, STIP, SEIP). */
export const S_INTERRUPTS = (1 << 1) | (1 << 5) | (1 << 9);
/** mip bits software can write from M-mode (SSIP, STIP, SEIP); MSIP/MTIP/MEIP come from devices. */
export const MIP_WRITABLE = S_INTERRUPTS;
/** All interrupts this hart implements. */
export const ALL_INTERRUPTS = S_INTERRUPTS | (1 << 3) | (1 << 7) | (1 << 11);
/** Exceptions that medeleg may delegate (all but ecall from M-mode). */
export const MEDELEG_WRITABLE = 0xb3ff;
