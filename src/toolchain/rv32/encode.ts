// RV32IMAFD + Zicsr + Zifencei + privileged instruction encoder and disassembler.
//
// Contract: every function here is pure and returns the 32-bit instruction word as an unsigned
// JS number (0..2^32-1). Out-of-range fields throw a RangeError naming the instruction and the
// field ("addi: imm 4096 out of range -2048..2047"). Register arguments are numbers 0..31
// (x or f registers, as the instruction requires). Branch and jump offsets are byte offsets
// relative to the instruction's own address.
//
// Bit layouts: Unprivileged ISA 20191213, 2.2 (R/I/S/U), 2.3 (B/J immediates), 13.6 (R4).
// Opcode and funct values live once, in the table in opcodes.ts.

import {
  CSR_NUMBERS, FREG_NAMES, INSTRUCTIONS, ROUNDING_MODES, XREG_NAMES, csrName, lookupInsn,
  type InsnSpec, type OperandKind,
} from './opcodes.ts';

export { CSR_NUMBERS, INSTRUCTIONS, lookupInsn };

function check(name: string, field: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`${name}: ${field} ${v} out of range ${lo}..${hi}`);
  }
  return v;
}

const reg = (name: string, field: string, v: number): number => check(name, field, v, 0, 31);

// ---- Format-level encoders (2.2, 2.3, 13.6) ----

/** R-type: funct7 | rs2 | rs1 | funct3 | rd | opcode. */
export function encR(op: number, rd: number, f3: number, rs1: number, rs2: number, f7: number,
  name = 'R-type'): number {
  return ((check(name, 'funct7', f7, 0, 127) << 25) | (reg(name, 'rs2', rs2) << 20)
    | (reg(name, 'rs1', rs1) << 15) | (check(name, 'funct3', f3, 0, 7) << 12)
    | (reg(name, 'rd', rd) << 7) | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** R4-type (fused multiply-add): rs3 | fmt | rs2 | rs1 | rm | rd | opcode. */
export function encR4(op: number, rd: number, rm: number, rs1: number, rs2: number, rs3: number,
  fmt: number, name = 'R4-type'): number {
  return ((reg(name, 'rs3', rs3) << 27) | (check(name, 'fmt', fmt, 0, 3) << 25)
    | (reg(name, 'rs2', rs2) << 20) | (reg(name, 'rs1', rs1) << 15)
    | (check(name, 'rm', rm, 0, 7) << 12) | (reg(name, 'rd', rd) << 7)
    | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** I-type: imm[11:0] | rs1 | funct3 | rd | opcode; imm is signed -2048..2047. */
export function encI(op: number, rd: number, f3: number, rs1: number, imm: number,
  name = 'I-type'): number {
  return ((check(name, 'imm', imm, -2048, 2047) << 20) | (reg(name, 'rs1', rs1) << 15)
    | (check(name, 'funct3', f3, 0, 7) << 12) | (reg(name, 'rd', rd) << 7)
    | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** S-type: imm[11:5] | rs2 | rs1 | funct3 | imm[4:0] | opcode; imm is signed -2048..2047. */
export function encS(op: number, f3: number, rs1: number, rs2: number, imm: number,
  name = 'S-type'): number {
  check(name, 'imm', imm, -2048, 2047);
  return ((((imm >> 5) & 0x7f) << 25) | (reg(name, 'rs2', rs2) << 20) | (reg(name, 'rs1', rs1) << 15)
    | (check(name, 'funct3', f3, 0, 7) << 12) | ((imm & 0x1f) << 7)
    | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** B-type: imm[12|10:5] | rs2 | rs1 | funct3 | imm[4:1|11] | opcode; even offset, +-4 KiB. */
export function encB(op: number, f3: number, rs1: number, rs2: number, offset: number,
  name = 'B-type'): number {
  check(name, 'offset', offset, -4096, 4094);
  if (offset & 1) throw new RangeError(`${name}: offset ${offset} is odd`);
  const o = offset;
  return ((((o >> 12) & 1) << 31) | (((o >> 5) & 0x3f) << 25) | (reg(name, 'rs2', rs2) << 20)
    | (reg(name, 'rs1', rs1) << 15) | (check(name, 'funct3', f3, 0, 7) << 12)
    | (((o >> 1) & 0xf) << 8) | (((o >> 11) & 1) << 7) | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** U-type: imm[31:12] | rd | opcode. imm20 is the 20-bit field, accepted as unsigned
 *  (0..0xfffff) or signed (-0x80000..-1). */
export function encU(op: number, rd: number, imm20: number, name = 'U-type'): number {
  check(name, 'imm', imm20, -0x80000, 0xfffff);
  return (((imm20 & 0xfffff) << 12) | (reg(name, 'rd', rd) << 7)
    | check(name, 'opcode', op, 0, 127)) >>> 0;
}

/** J-type: imm[20|10:1|11|19:12] | rd | opcode; even offset, +-1 MiB. */
export function encJ(op: number, rd: number, offset: number, name = 'J-type'): number {
  check(name, 'offset', offset, -(1 << 20), (1 << 20) - 2);
  if (offset & 1) throw new RangeError(`${name}: offset ${offset} is odd`);
  const o = offset;
  return ((((o >> 20) & 1) << 31) | (((o >> 1) & 0x3ff) << 21) | (((o >> 11) & 1) << 20)
    | (((o >> 12) & 0xff) << 12) | (reg(name, 'rd', rd) << 7)
    | check(name, 'opcode', op, 0, 127)) >>> 0;
}

// ---- Table-driven encoding ----

/**
 * Field values for one instruction, named by the instruction field they go to. Which ones are
 * read depends on the spec's operand kinds (see OperandKind): `imm` carries imm / shamt / csr /
 * branch or jump offset / upper immediate; `rs1` carries zimm; `rm` overrides the default
 * rounding mode. Missing values are 0.
 */
export interface InsnFields {
  rd?: number; rs1?: number; rs2?: number; rs3?: number; imm?: number; rm?: number;
  pred?: number; succ?: number; aq?: boolean; rl?: boolean;
}

/** Encode instruction `spec` with operand values `f`. */
export function encodeInsn(spec: InsnSpec, f: InsnFields): number {
  const n = spec.mnemonic;
  const ops = spec.operands;
  const rd = f.rd ?? 0;
  const rs1 = f.rs1 ?? 0;
  const rs2 = ops.includes('rs2') || ops.includes('fs2') ? (f.rs2 ?? 0) : spec.rs2;
  const f3 = ops.includes('rm') && f.rm !== undefined ? check(n, 'rm', f.rm, 0, 7) : spec.funct3;
  let imm = f.imm ?? 0;
  switch (spec.format) {
    case 'R': {
      const f7 = spec.aqrl ? spec.funct7 | (f.aq ? 2 : 0) | (f.rl ? 1 : 0) : spec.funct7;
      return encR(spec.opcode, rd, f3, rs1, rs2, f7, n);
    }
    case 'R4':
      return encR4(spec.opcode, rd, f3, rs1, rs2, f.rs3 ?? 0, spec.funct7, n);
    case 'I':
      if (ops.includes('shamt')) imm = spec.imm | check(n, 'shamt', imm, 0, 31);
      else if (ops.includes('csr')) imm = (check(n, 'csr', imm, 0, 4095) << 20) >> 20;
      else if (ops.includes('pred')) {
        imm = (check(n, 'pred', f.pred ?? 0, 0, 15) << 4) | check(n, 'succ', f.succ ?? 0, 0, 15);
      } else if (!ops.includes('imm') && !ops.includes('mem')) imm = spec.imm;
      if (ops.includes('zimm')) check(n, 'zimm', rs1, 0, 31);
      return encI(spec.opcode, rd, f3, rs1, imm, n);
    case 'S':
      return encS(spec.opcode, f3, rs1, rs2, imm, n);
    case 'B':
      return encB(spec.opcode, f3, rs1, rs2, imm, n);
    case 'U':
      return encU(spec.opcode, rd, imm, n);
    case 'J':
      return encJ(spec.opcode, rd, imm, n);
  }
}

function spec(m: string): InsnSpec {
  const s = lookupInsn(m);
  if (s === undefined) throw new Error(`encode: no instruction '${m}' in the table`);
  return s;
}

// Helper factories: one per operand shape, so each named helper below is one line.
function rrr(m: string) { const s = spec(m); return (rd: number, rs1: number, rs2: number): number => encodeInsn(s, { rd, rs1, rs2 }); }
function rri(m: string) { const s = spec(m); return (rd: number, rs1: number, imm: number): number => encodeInsn(s, { rd, rs1, imm }); }
function store(m: string) { const s = spec(m); return (rs2: number, rs1: number, imm: number): number => encodeInsn(s, { rs1, rs2, imm }); }
function branch(m: string) { const s = spec(m); return (rs1: number, rs2: number, offset: number): number => encodeInsn(s, { rs1, rs2, imm: offset }); }
function upper(m: string) { const s = spec(m); return (rd: number, imm20: number): number => encodeInsn(s, { rd, imm: imm20 }); }
function csrR(m: string) { const s = spec(m); return (rd: number, csr: number, rs1: number): number => encodeInsn(s, { rd, rs1, imm: csr }); }
function csrI(m: string) { const s = spec(m); return (rd: number, csr: number, zimm: number): number => encodeInsn(s, { rd, rs1: zimm, imm: csr }); }
function amo(m: string) { const s = spec(m); return (rd: number, rs1: number, rs2: number, aq = false, rl = false): number => encodeInsn(s, { rd, rs1, rs2, aq, rl }); }
function frrrRm(m: string) { const s = spec(m); return (rd: number, rs1: number, rs2: number, rm = s.funct3): number => encodeInsn(s, { rd, rs1, rs2, rm }); }
function frrRm(m: string) { const s = spec(m); return (rd: number, rs1: number, rm = s.funct3): number => encodeInsn(s, { rd, rs1, rm }); }
function frr(m: string) { const s = spec(m); return (rd: number, rs1: number): number => encodeInsn(s, { rd, rs1 }); }
function fma(m: string) { const s = spec(m); return (rd: number, rs1: number, rs2: number, rs3: number, rm = s.funct3): number => encodeInsn(s, { rd, rs1, rs2, rs3, rm }); }
function fixed(m: string) { const w = encodeInsn(spec(m), {}); return (): number => w; }

// RV32I (chapter 2)
export const lui = upper('lui');
export const auipc = upper('auipc');
export const jal = (rd: number, offset: number): number => encodeInsn(spec('jal'), { rd, imm: offset });
export const jalr = rri('jalr');
export const beq = branch('beq');
export const bne = branch('bne');
export const blt = branch('blt');
export const bge = branch('bge');
export const bltu = branch('bltu');
export const bgeu = branch('bgeu');
export const lb = rri('lb');
export const lh = rri('lh');
export const lw = rri('lw');
export const lbu = rri('lbu');
export const lhu = rri('lhu');
export const sb = store('sb');
export const sh = store('sh');
export const sw = store('sw');
export const addi = rri('addi');
export const slti = rri('slti');
export const sltiu = rri('sltiu');
export const xori = rri('xori');
export const ori = rri('ori');
export const andi = rri('andi');
export const slli = rri('slli');
export const srli = rri('srli');
export const srai = rri('srai');
export const add = rrr('add');
export const sub = rrr('sub');
export const sll = rrr('sll');
export const slt = rrr('slt');
export const sltu = rrr('sltu');
export const xor = rrr('xor');
export const srl = rrr('srl');
export const sra = rrr('sra');
export const or = rrr('or');
export const and = rrr('and');
/** FENCE pred, succ: 4-bit sets, bit 3..0 = I, O, R, W. Default is `fence iorw, iorw`. */
export const fence = (pred = 0xf, succ = 0xf): number => encodeInsn(spec('fence'), { pred, succ });
export const fence_tso = fixed('fence.tso');
export const ecall = fixed('ecall');
export const ebreak = fixed('ebreak');
// M (chapter 7)
export const mul = rrr('mul');
export const mulh = rrr('mulh');
export const mulhsu = rrr('mulhsu');
export const mulhu = rrr('mulhu');
export const div = rrr('div');
export const divu = rrr('divu');
export const rem = rrr('rem');
export const remu = rrr('remu');
// A (chapter 8). rs1 is the address, rs2 the value; aq/rl set the ordering bits (8.2).
export const lr_w = (rd: number, rs1: number, aq = false, rl = false): number => encodeInsn(spec('lr.w'), { rd, rs1, aq, rl });
export const sc_w = amo('sc.w');
export const amoswap_w = amo('amoswap.w');
export const amoadd_w = amo('amoadd.w');
export const amoxor_w = amo('amoxor.w');
export const amoand_w = amo('amoand.w');
export const amoor_w = amo('amoor.w');
export const amomin_w = amo('amomin.w');
export const amomax_w = amo('amomax.w');
export const amominu_w = amo('amominu.w');
export const amomaxu_w = amo('amomaxu.w');
// Zicsr (chapter 9): csr is the 12-bit CSR number.
export const csrrw = csrR('csrrw');
export const csrrs = csrR('csrrs');
export const csrrc = csrR('csrrc');
export const csrrwi = csrI('csrrwi');
export const csrrsi = csrI('csrrsi');
export const csrrci = csrI('csrrci');
// Zifencei (chapter 3) and privileged (Privileged ISA 3.3, 4.2)
export const fence_i = fixed('fence.i');
export const sret = fixed('sret');
export const mret = fixed('mret');
export const wfi = fixed('wfi');
export const sfence_vma = (rs1 = 0, rs2 = 0): number => encodeInsn(spec('sfence.vma'), { rs1, rs2 });
// F (chapter 11). rm defaults to the table's default (DYN, 7), like GNU as.
export const flw = rri('flw');
export const fsw = store('fsw');
export const fmadd_s = fma('fmadd.s');
export const fmsub_s = fma('fmsub.s');
export const fnmsub_s = fma('fnmsub.s');
export const fnmadd_s = fma('fnmadd.s');
export const fadd_s = frrrRm('fadd.s');
export const fsub_s = frrrRm('fsub.s');
export const fmul_s = frrrRm('fmul.s');
export const fdiv_s = frrrRm('fdiv.s');
export const fsqrt_s = frrRm('fsqrt.s');
export const fsgnj_s = rrr('fsgnj.s');
export const fsgnjn_s = rrr('fsgnjn.s');
export const fsgnjx_s = rrr('fsgnjx.s');
export const fmin_s = rrr('fmin.s');
export const fmax_s = rrr('fmax.s');
export const fcvt_w_s = frrRm('fcvt.w.s');
export const fcvt_wu_s = frrRm('fcvt.wu.s');
export const fmv_x_w = frr('fmv.x.w');
export const feq_s = rrr('feq.s');
export const flt_s = rrr('flt.s');
export const fle_s = rrr('fle.s');
export const fclass_s = frr('fclass.s');
export const fcvt_s_w = frrRm('fcvt.s.w');
export const fcvt_s_wu = frrRm('fcvt.s.wu');
export const fmv_w_x = frr('fmv.w.x');
// D (chapter 12). Integer->double and single->double are exact; their rm defaults to RNE (0).
export const fld = rri('fld');
export const fsd = store('fsd');
export const fmadd_d = fma('fmadd.d');
export const fmsub_d = fma('fmsub.d');
export const fnmsub_d = fma('fnmsub.d');
export const fnmadd_d = fma('fnmadd.d');
export const fadd_d = frrrRm('fadd.d');
export const fsub_d = frrrRm('fsub.d');
export const fmul_d = frrrRm('fmul.d');
export const fdiv_d = frrrRm('fdiv.d');
export const fsqrt_d = frrRm('fsqrt.d');
export const fsgnj_d = rrr('fsgnj.d');
export const fsgnjn_d = rrr('fsgnjn.d');
export const fsgnjx_d = rrr('fsgnjx.d');
export const fmin_d = rrr('fmin.d');
export const fmax_d = rrr('fmax.d');
export const fcvt_s_d = frrRm('fcvt.s.d');
export const fcvt_d_s = frrRm('fcvt.d.s');
export const feq_d = rrr('feq.d');
export const flt_d = rrr('flt.d');
export const fle_d = rrr('fle.d');
export const fclass_d = frr('fclass.d');
export const fcvt_w_d = frrRm('fcvt.w.d');
export const fcvt_wu_d = frrRm('fcvt.wu.d');
export const fcvt_d_w = frrRm('fcvt.d.w');
export const fcvt_d_wu = frrRm('fcvt.d.wu');

// ---- Disassembler ----

/** Bits of the instruction word that each operand kind fills (the rest are fixed). */
function operandBits(kind: OperandKind, spec: InsnSpec): number {
  switch (kind) {
    case 'rd': case 'fd': return 0x00000f80;
    case 'rs1': case 'fs1': case 'zimm': case 'amem': return 0x000f8000;
    case 'rs2': case 'fs2': case 'shamt': return 0x01f00000;
    case 'fs3': return 0xf8000000;
    case 'rm': return 0x00007000;
    case 'imm': case 'csr': return 0xfff00000;
    case 'mem': return spec.format === 'S' ? 0xfe0f8f80 : 0xffff8000;
    case 'boff': return 0xfe000f80;
    case 'joff': case 'uimm': return 0xfffff000;
    case 'pred': return 0x0f000000;
    case 'succ': return 0x00f00000;
  }
}

interface Decoder { readonly spec: InsnSpec; readonly mask: number; readonly match: number }

/** Decoders grouped by major opcode; within a group the first (table-order) match wins. */
const DECODERS: ReadonlyMap<number, readonly Decoder[]> = (() => {
  const m = new Map<number, Decoder[]>();
  for (const s of INSTRUCTIONS) {
    let variable = s.aqrl ? 0x06000000 : 0;
    for (const k of s.operands) variable |= operandBits(k, s);
    const mask = ~variable >>> 0;
    const zero: InsnFields = s.operands.includes('rm') ? { rm: 0 } : {};
    const match = (encodeInsn(s, zero) & mask) >>> 0;
    const list = m.get(s.opcode) ?? [];
    list.push({ spec: s, mask, match });
    m.set(s.opcode, list);
  }
  return m;
})();

/** The table entry that `word` encodes, or undefined if it is not an RV32IMAFD instruction. */
export function decodeSpec(word: number): InsnSpec | undefined {
  const w = word >>> 0;
  for (const d of DECODERS.get(w & 0x7f) ?? []) if (((w & d.mask) >>> 0) === d.match) return d.spec;
  return undefined;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
const FENCE_SET = (v: number): string =>
  (v & 8 ? 'i' : '') + (v & 4 ? 'o' : '') + (v & 2 ? 'r' : '') + (v & 1 ? 'w' : '') || '0';
const RM_NAMES = new Map<number, string>(Object.entries(ROUNDING_MODES).map(([k, v]) => [v, k]));

/**
 * One instruction in GNU objdump `-M no-aliases` syntax (ABI register names, CSR names,
 * e.g. "addi a0,a1,-5", "lw a0,-8(sp)", "amoadd.w.aqrl a0,a1,(a2)"). With `pc`, branch and
 * jump targets are printed as absolute hex addresses; without it, as `.+offset`.
 * A word that is not an instruction prints as ".word 0x...".
 */
export function disassemble(word: number, pc?: number): string {
  const w = word >>> 0;
  const s = decodeSpec(w);
  if (s === undefined) return `.word 0x${w.toString(16).padStart(8, '0')}`;
  const rd = (w >>> 7) & 31;
  const rs1 = (w >>> 15) & 31;
  const rs2 = (w >>> 20) & 31;
  const iImm = w >> 20;
  const target = (off: number): string =>
    pc === undefined ? `.${off < 0 ? '-' : '+'}${Math.abs(off)}` : hex(pc + off);
  const parts: string[] = [];
  for (const k of s.operands) {
    switch (k) {
      case 'rd': parts.push(XREG_NAMES[rd]!); break;
      case 'rs1': parts.push(XREG_NAMES[rs1]!); break;
      case 'rs2': parts.push(XREG_NAMES[rs2]!); break;
      case 'fd': parts.push(FREG_NAMES[rd]!); break;
      case 'fs1': parts.push(FREG_NAMES[rs1]!); break;
      case 'fs2': parts.push(FREG_NAMES[rs2]!); break;
      case 'fs3': parts.push(FREG_NAMES[w >>> 27]!); break;
      case 'imm': parts.push(String(iImm)); break;
      case 'shamt': parts.push(hex(rs2)); break;
      case 'mem': {
        const off = s.format === 'S' ? ((w >> 25) << 5) | rd : iImm;
        parts.push(`${off}(${XREG_NAMES[rs1]})`);
        break;
      }
      case 'amem': parts.push(`(${XREG_NAMES[rs1]})`); break;
      case 'boff':
        parts.push(target(((w >> 31) << 12) | (((w >>> 7) & 1) << 11)
          | (((w >>> 25) & 0x3f) << 5) | (((w >>> 8) & 0xf) << 1)));
        break;
      case 'joff':
        parts.push(target(((w >> 31) << 20) | (((w >>> 12) & 0xff) << 12)
          | (((w >>> 20) & 1) << 11) | (((w >>> 21) & 0x3ff) << 1)));
        break;
      case 'uimm': parts.push(hex(w >>> 12)); break;
      case 'csr': parts.push(csrName(w >>> 20) ?? hex(w >>> 20)); break;
      case 'zimm': parts.push(String(rs1)); break;
      case 'rm': {
        // Like objdump: the rounding mode is shown only when it differs from the default.
        const rm = (w >>> 12) & 7;
        if (rm !== s.funct3) parts.push(RM_NAMES.get(rm) ?? String(rm));
        break;
      }
      case 'pred': parts.push(FENCE_SET((w >>> 24) & 15)); break;
      case 'succ': parts.push(FENCE_SET((w >>> 20) & 15)); break;
    }
  }
  let mn = s.mnemonic;
  if (s.aqrl) mn += ['', '.rl', '.aq', '.aqrl'][(w >>> 25) & 3];
  return parts.length === 0 ? mn : `${mn} ${parts.join(',')}`;
}
