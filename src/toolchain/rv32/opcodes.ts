// The RV32IMAFD + Zicsr + Zifencei + privileged instruction table, register names and CSR
// names. This file is data only: the encoder, the disassembler (encode.ts) and the assembler
// (asm/) all read the same table, so an opcode or funct field is written exactly once.
//
// Field layout follows the RISC-V Unprivileged ISA (20191213), chapter 2.2-2.3 (base formats),
// chapter 24 "RV32/64G Instruction Set Listings" (opcode map and every funct value), and the
// Privileged ISA (20211203) chapter 3.3 / 4.2 (MRET, SRET, WFI, SFENCE.VMA) and 2.2 (CSR numbers).

/** The six base formats plus R4 (fused multiply-add, Unprivileged ISA 13.6). */
export type Format = 'R' | 'R4' | 'I' | 'S' | 'B' | 'U' | 'J';

/**
 * One operand as written in assembly, in assembly order. The kind says both how it is
 * parsed and which instruction field(s) it fills:
 *   rd rs1 rs2        integer registers in the rd / rs1 / rs2 fields
 *   fd fs1 fs2 fs3    floating-point registers in rd / rs1 / rs2 / rs3
 *   imm               12-bit signed immediate of an I-type
 *   shamt             5-bit shift amount in the rs2 field position (RV32I 2.4)
 *   mem               `imm(rs1)`: I-type (loads, jalr) or S-type (stores) immediate plus rs1
 *   amem              `(rs1)`: the address operand of LR/SC/AMO (offset must be 0)
 *   boff joff         PC-relative B-type (+-4 KiB) / J-type (+-1 MiB) byte offsets
 *   uimm              20-bit upper immediate of LUI/AUIPC
 *   csr               12-bit CSR number in the I-immediate (Zicsr, chapter 9)
 *   zimm              5-bit unsigned immediate in the rs1 field (CSRRxI)
 *   rm                optional rounding mode in funct3 (F extension 11.2); absent = default
 *   pred succ         FENCE predecessor / successor sets (`iorw`), 4 bits each
 */
export type OperandKind =
  | 'rd' | 'rs1' | 'rs2' | 'fd' | 'fs1' | 'fs2' | 'fs3'
  | 'imm' | 'shamt' | 'mem' | 'amem' | 'boff' | 'joff' | 'uimm'
  | 'csr' | 'zimm' | 'rm' | 'pred' | 'succ';

export type Extension = 'I' | 'M' | 'A' | 'F' | 'D' | 'Zicsr' | 'Zifencei' | 'Priv';

/** A real (non-pseudo) instruction. Fields an operand does not fill are fixed by the spec. */
export interface InsnSpec {
  readonly mnemonic: string;
  readonly format: Format;
  readonly ext: Extension;
  readonly opcode: number;
  /** funct3; for instructions with an `rm` operand, the rounding mode used when it is omitted. */
  readonly funct3: number;
  /** R: funct7 (AMO: funct5 << 2, aq/rl added per use). R4: the 2-bit fmt field. Else 0. */
  readonly funct7: number;
  /** R: the value of the rs2 field when no operand fills it (FSQRT, FCVT, LR). */
  readonly rs2: number;
  /** I: immediate bits no operand fills (shift funct7 in imm[11:5], SYSTEM funct12, FENCE fm).
   *  Stored as the signed 12-bit value. */
  readonly imm: number;
  readonly operands: readonly OperandKind[];
  /** LR/SC/AMO: takes `.aq`, `.rl`, `.aqrl` suffixes (A extension 8.2). */
  readonly aqrl: boolean;
}

// Major opcodes, Unprivileged ISA table 24.1.
export const OPC = {
  LOAD: 0x03, LOAD_FP: 0x07, MISC_MEM: 0x0f, OP_IMM: 0x13, AUIPC: 0x17, STORE: 0x23,
  STORE_FP: 0x27, AMO: 0x2f, OP: 0x33, LUI: 0x37, MADD: 0x43, MSUB: 0x47, NMSUB: 0x4b,
  NMADD: 0x4f, OP_FP: 0x53, BRANCH: 0x63, JALR: 0x67, JAL: 0x6f, SYSTEM: 0x73,
} as const;

/** Rounding modes, F extension table 11.1. */
export const ROUNDING_MODES: Readonly<Record<string, number>> = {
  rne: 0, rtz: 1, rdn: 2, rup: 3, rmm: 4, dyn: 7,
};
export const RM_DYN = 7;

type Opts = { rs2?: number; imm?: number; aqrl?: boolean };

function mk(mnemonic: string, format: Format, ext: Extension, opcode: number, funct3: number,
  funct7: number, ops: string, o: Opts = {}): InsnSpec {
  return {
    mnemonic, format, ext, opcode, funct3, funct7,
    rs2: o.rs2 ?? 0, imm: o.imm ?? 0, aqrl: o.aqrl ?? false,
    operands: ops === '' ? [] : (ops.split(',') as OperandKind[]),
  };
}

const { LOAD, LOAD_FP, MISC_MEM, OP_IMM, AUIPC, STORE, STORE_FP, AMO, OP, LUI, MADD, MSUB,
  NMSUB, NMADD, OP_FP, BRANCH, JALR, JAL, SYSTEM } = OPC;

function rv32i(): InsnSpec[] {
  const t: InsnSpec[] = [
    mk('lui', 'U', 'I', LUI, 0, 0, 'rd,uimm'),
    mk('auipc', 'U', 'I', AUIPC, 0, 0, 'rd,uimm'),
    mk('jal', 'J', 'I', JAL, 0, 0, 'rd,joff'),
    mk('jalr', 'I', 'I', JALR, 0, 0, 'rd,mem'),
  ];
  const br = ['beq', 'bne', '', '', 'blt', 'bge', 'bltu', 'bgeu'];
  br.forEach((m, f3) => { if (m) t.push(mk(m, 'B', 'I', BRANCH, f3, 0, 'rs1,rs2,boff')); });
  ['lb', 'lh', 'lw', '', 'lbu', 'lhu'].forEach((m, f3) => {
    if (m) t.push(mk(m, 'I', 'I', LOAD, f3, 0, 'rd,mem'));
  });
  ['sb', 'sh', 'sw'].forEach((m, f3) => t.push(mk(m, 'S', 'I', STORE, f3, 0, 'rs2,mem')));
  ['addi', '', 'slti', 'sltiu', 'xori', '', 'ori', 'andi'].forEach((m, f3) => {
    if (m) t.push(mk(m, 'I', 'I', OP_IMM, f3, 0, 'rd,rs1,imm'));
  });
  // Shifts by immediate: imm[11:5] is funct7 (0x20 selects arithmetic), RV32I 2.4.1.
  t.push(mk('slli', 'I', 'I', OP_IMM, 1, 0, 'rd,rs1,shamt'));
  t.push(mk('srli', 'I', 'I', OP_IMM, 5, 0, 'rd,rs1,shamt'));
  t.push(mk('srai', 'I', 'I', OP_IMM, 5, 0, 'rd,rs1,shamt', { imm: 0x20 << 5 }));
  const alu: [string, number, number][] = [
    ['add', 0, 0], ['sub', 0, 0x20], ['sll', 1, 0], ['slt', 2, 0], ['sltu', 3, 0],
    ['xor', 4, 0], ['srl', 5, 0], ['sra', 5, 0x20], ['or', 6, 0], ['and', 7, 0],
  ];
  for (const [m, f3, f7] of alu) t.push(mk(m, 'R', 'I', OP, f3, f7, 'rd,rs1,rs2'));
  // FENCE: imm = fm[11:8] pred[7:4] succ[3:0]; FENCE.TSO is fm=1000 rw,rw (RV32I 2.7).
  t.push(mk('fence', 'I', 'I', MISC_MEM, 0, 0, 'pred,succ'));
  t.push(mk('fence.tso', 'I', 'I', MISC_MEM, 0, 0, '', { imm: 0x833 - 0x1000 }));
  t.push(mk('ecall', 'I', 'I', SYSTEM, 0, 0, '', { imm: 0 }));
  t.push(mk('ebreak', 'I', 'I', SYSTEM, 0, 0, '', { imm: 1 }));
  return t;
}

function rv32m(): InsnSpec[] {
  return ['mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu']
    .map((m, f3) => mk(m, 'R', 'M', OP, f3, 0x01, 'rd,rs1,rs2'));
}

function rv32a(): InsnSpec[] {
  const t = [
    mk('lr.w', 'R', 'A', AMO, 2, 0x02 << 2, 'rd,amem', { aqrl: true }),
    mk('sc.w', 'R', 'A', AMO, 2, 0x03 << 2, 'rd,rs2,amem', { aqrl: true }),
  ];
  const amo: [string, number][] = [
    ['amoswap.w', 0x01], ['amoadd.w', 0x00], ['amoxor.w', 0x04], ['amoand.w', 0x0c],
    ['amoor.w', 0x08], ['amomin.w', 0x10], ['amomax.w', 0x14], ['amominu.w', 0x18],
    ['amomaxu.w', 0x1c],
  ];
  for (const [m, f5] of amo) t.push(mk(m, 'R', 'A', AMO, 2, f5 << 2, 'rd,rs2,amem', { aqrl: true }));
  return t;
}

/** F (fmt=0, suffix .s, width 010) or D (fmt=1, suffix .d, width 011); chapters 11 and 12. */
function rv32fd(d: boolean): InsnSpec[] {
  const s = d ? 'd' : 's';
  const ext: Extension = d ? 'D' : 'F';
  const fmt = d ? 1 : 0;
  const w = d ? 3 : 2;
  const t: InsnSpec[] = [
    mk(d ? 'fld' : 'flw', 'I', ext, LOAD_FP, w, 0, 'fd,mem'),
    mk(d ? 'fsd' : 'fsw', 'S', ext, STORE_FP, w, 0, 'fs2,mem'),
  ];
  const fma: [string, number][] = [['fmadd', MADD], ['fmsub', MSUB], ['fnmsub', NMSUB], ['fnmadd', NMADD]];
  for (const [m, op] of fma) t.push(mk(`${m}.${s}`, 'R4', ext, op, RM_DYN, fmt, 'fd,fs1,fs2,fs3,rm'));
  const f7 = (funct5: number): number => (funct5 << 2) | fmt;
  const arith: [string, number][] = [['fadd', 0x00], ['fsub', 0x01], ['fmul', 0x02], ['fdiv', 0x03]];
  for (const [m, f5] of arith) t.push(mk(`${m}.${s}`, 'R', ext, OP_FP, RM_DYN, f7(f5), 'fd,fs1,fs2,rm'));
  t.push(mk(`fsqrt.${s}`, 'R', ext, OP_FP, RM_DYN, f7(0x0b), 'fd,fs1,rm'));
  ['fsgnj', 'fsgnjn', 'fsgnjx'].forEach((m, f3) => t.push(mk(`${m}.${s}`, 'R', ext, OP_FP, f3, f7(0x04), 'fd,fs1,fs2')));
  ['fmin', 'fmax'].forEach((m, f3) => t.push(mk(`${m}.${s}`, 'R', ext, OP_FP, f3, f7(0x05), 'fd,fs1,fs2')));
  // FP -> integer conversions: rs2 selects W (0) or WU (1); RV32 has no L forms.
  t.push(mk(`fcvt.w.${s}`, 'R', ext, OP_FP, RM_DYN, f7(0x18), 'rd,fs1,rm', { rs2: 0 }));
  t.push(mk(`fcvt.wu.${s}`, 'R', ext, OP_FP, RM_DYN, f7(0x18), 'rd,fs1,rm', { rs2: 1 }));
  ['fle', 'flt', 'feq'].forEach((m, f3) => t.push(mk(`${m}.${s}`, 'R', ext, OP_FP, f3, f7(0x14), 'rd,fs1,fs2')));
  t.push(mk(`fclass.${s}`, 'R', ext, OP_FP, 1, f7(0x1c), 'rd,fs1'));
  // Integer -> FP. Into D the conversion is exact, so GNU as defaults rm to RNE (0) there.
  const toRm = d ? 0 : RM_DYN;
  t.push(mk(`fcvt.${s}.w`, 'R', ext, OP_FP, toRm, f7(0x1a), 'fd,rs1,rm', { rs2: 0 }));
  t.push(mk(`fcvt.${s}.wu`, 'R', ext, OP_FP, toRm, f7(0x1a), 'fd,rs1,rm', { rs2: 1 }));
  if (d) {
    // D <-> S conversions (12.5): rs2 holds the source format.
    t.push(mk('fcvt.s.d', 'R', ext, OP_FP, RM_DYN, 0x20, 'fd,fs1,rm', { rs2: 1 }));
    t.push(mk('fcvt.d.s', 'R', ext, OP_FP, 0, 0x21, 'fd,fs1,rm', { rs2: 0 }));
  } else {
    // Bit moves between x and f registers (11.7); RV32D has no FMV.X.D.
    t.push(mk('fmv.x.w', 'R', ext, OP_FP, 0, 0x70, 'rd,fs1'));
    t.push(mk('fmv.w.x', 'R', ext, OP_FP, 0, 0x78, 'fd,rs1'));
  }
  return t;
}

function zicsrPriv(): InsnSpec[] {
  const t: InsnSpec[] = [];
  ['', 'csrrw', 'csrrs', 'csrrc', '', 'csrrwi', 'csrrsi', 'csrrci'].forEach((m, f3) => {
    if (m) t.push(mk(m, 'I', 'Zicsr', SYSTEM, f3, 0, f3 < 4 ? 'rd,csr,rs1' : 'rd,csr,zimm'));
  });
  t.push(mk('fence.i', 'I', 'Zifencei', MISC_MEM, 1, 0, ''));
  // Privileged ISA 3.3.2 (xRET), 3.3.3 (WFI), 4.2.1 (SFENCE.VMA): funct12 / funct7 values.
  t.push(mk('sret', 'I', 'Priv', SYSTEM, 0, 0, '', { imm: 0x102 }));
  t.push(mk('mret', 'I', 'Priv', SYSTEM, 0, 0, '', { imm: 0x302 }));
  t.push(mk('wfi', 'I', 'Priv', SYSTEM, 0, 0, '', { imm: 0x105 }));
  t.push(mk('sfence.vma', 'R', 'Priv', SYSTEM, 0, 0x09, 'rs1,rs2'));
  return t;
}

/** Every real instruction, in a stable order (the disassembler takes the first match). */
export const INSTRUCTIONS: readonly InsnSpec[] = [
  ...rv32i(), ...rv32m(), ...rv32a(), ...rv32fd(false), ...rv32fd(true), ...zicsrPriv(),
];

const BY_MNEMONIC = new Map<string, InsnSpec>(INSTRUCTIONS.map((s) => [s.mnemonic, s]));

/** The spec of a real instruction by mnemonic (no pseudo-instructions, no .aq/.rl suffix). */
export function lookupInsn(mnemonic: string): InsnSpec | undefined {
  return BY_MNEMONIC.get(mnemonic);
}

// ---- Registers (Unprivileged ISA chapter 25, "RISC-V Assembly Programmer's Handbook") ----

export const XREG_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];
export const FREG_NAMES: readonly string[] = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3',
  'fa4', 'fa5', 'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10',
  'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];

/** Integer register number for `x0`..`x31`, an ABI name or `fp`; undefined otherwise. */
export function xregNumber(name: string): number | undefined {
  const m = /^x([0-9]|[12][0-9]|3[01])$/.exec(name);
  if (m) return Number(m[1]);
  if (name === 'fp') return 8;
  const i = XREG_NAMES.indexOf(name);
  return i < 0 ? undefined : i;
}

/** Floating-point register number for `f0`..`f31` or an ABI name; undefined otherwise. */
export function fregNumber(name: string): number | undefined {
  const m = /^f([0-9]|[12][0-9]|3[01])$/.exec(name);
  if (m) return Number(m[1]);
  const i = FREG_NAMES.indexOf(name);
  return i < 0 ? undefined : i;
}

// ---- CSR numbers (Privileged ISA 2.2, tables 2.2-2.5) ----

function csrTable(): Map<string, number> {
  const t = new Map<string, number>([
    ['fflags', 0x001], ['frm', 0x002], ['fcsr', 0x003],
    ['cycle', 0xc00], ['time', 0xc01], ['instret', 0xc02],
    ['cycleh', 0xc80], ['timeh', 0xc81], ['instreth', 0xc82],
    ['sstatus', 0x100], ['sie', 0x104], ['stvec', 0x105], ['scounteren', 0x106],
    ['senvcfg', 0x10a], ['sscratch', 0x140], ['sepc', 0x141], ['scause', 0x142],
    ['stval', 0x143], ['sip', 0x144], ['satp', 0x180],
    ['mvendorid', 0xf11], ['marchid', 0xf12], ['mimpid', 0xf13], ['mhartid', 0xf14],
    ['mconfigptr', 0xf15],
    ['mstatus', 0x300], ['misa', 0x301], ['medeleg', 0x302], ['mideleg', 0x303],
    ['mie', 0x304], ['mtvec', 0x305], ['mcounteren', 0x306], ['menvcfg', 0x30a],
    ['mstatush', 0x310], ['menvcfgh', 0x31a], ['mcountinhibit', 0x320],
    ['mscratch', 0x340], ['mepc', 0x341], ['mcause', 0x342], ['mtval', 0x343], ['mip', 0x344],
    ['mtinst', 0x34a], ['mtval2', 0x34b],
    ['mcycle', 0xb00], ['minstret', 0xb02], ['mcycleh', 0xb80], ['minstreth', 0xb82],
    ['tselect', 0x7a0], ['tdata1', 0x7a1], ['tdata2', 0x7a2], ['tdata3', 0x7a3],
    ['dcsr', 0x7b0], ['dpc', 0x7b1], ['dscratch0', 0x7b2], ['dscratch1', 0x7b3],
  ]);
  for (let i = 0; i < 16; i++) t.set(`pmpcfg${i}`, 0x3a0 + i);
  for (let i = 0; i < 64; i++) t.set(`pmpaddr${i}`, 0x3b0 + i);
  for (let i = 3; i < 32; i++) {
    t.set(`hpmcounter${i}`, 0xc00 + i);
    t.set(`hpmcounter${i}h`, 0xc80 + i);
    t.set(`mhpmcounter${i}`, 0xb00 + i);
    t.set(`mhpmcounter${i}h`, 0xb80 + i);
    t.set(`mhpmevent${i}`, 0x320 + i);
  }
  return t;
}

/** Standard CSR names (RV32) to numbers. */
export const CSR_NUMBERS: ReadonlyMap<string, number> = csrTable();
const CSR_NAMES = new Map<number, string>([...CSR_NUMBERS].map(([n, v]) => [v, n]));

/** The standard name of CSR `num`, or undefined if it has none. */
export function csrName(num: number): string | undefined {
  return CSR_NAMES.get(num);
}
