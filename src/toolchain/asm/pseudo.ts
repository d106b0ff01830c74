// Pseudo-instructions, expanded exactly as GNU as 2.40 expands them (Unprivileged ISA
// chapter 25, tables 25.2-25.3, and binutils' riscv-opc.c). One-word aliases are rewritten to
// the real instruction's operand text and assembled through the table; multi-word ones
// (li, la, lla, call, tail, global load/store) compute their words in pass 2.

import * as E from '../rv32/encode.ts';
import { lookupInsn } from '../rv32/opcodes.ts';
import { evalExpr, hi20, lo12, type Expr, type ExprEnv } from './expr.ts';
import { expr, freg, isXreg, parseMem, realInsn, xreg, type Emit, type Pass1 } from './operands.ts';
import { StatementError } from './source.ts';

/** A parsed statement that emits code: its size in bytes is fixed in pass 1. */
export interface CodeStmt {
  readonly size: number;
  readonly emit: Emit;
  /** Set when the first word is an AUIPC with %pcrel_hi(target): a %pcrel_lo(label) that names
   *  this statement's address pairs with it (psABI, "Assembler relocation functions"). */
  readonly pcrelHi?: Expr;
}

/** Expand `mn ops` if it is a pseudo-instruction form; undefined means "assemble as real". */
type Pseudo = (p1: Pass1, ops: string[]) => CodeStmt | undefined;

function argc(mn: string, ops: string[], ...counts: number[]): void {
  if (!counts.includes(ops.length)) {
    throw new StatementError(`'${mn}' takes ${counts.join(' or ')} operands, got ${ops.length}`);
  }
}

function real(p1: Pass1, mn: string, ops: string[]): CodeStmt {
  const spec = lookupInsn(mn);
  if (spec === undefined) throw new Error(`pseudo: no real instruction ${mn}`);
  return { size: 4, emit: realInsn(p1, spec, ops) };
}

/** A one-word alias: `mn` with `n` operands becomes `target` with rewritten operands. */
function alias(mn: string, counts: number | number[], target: string, rewrite: (o: string[]) => string[]): Pseudo {
  const cs = typeof counts === 'number' ? [counts] : counts;
  return (p1, ops) => {
    argc(mn, ops, ...cs);
    return real(p1, target, rewrite(ops));
  };
}

/** Offset (target - address of this statement) of a PC-relative pair. */
const pcrel = (target: Expr, env: ExprEnv): bigint => evalExpr(target, env) - BigInt(env.dot());
const H = (v: bigint): number => Number(hi20(v));
const L = (v: bigint): number => Number(lo12(v));

/** AUIPC + one I/S-type instruction on the same PC-relative offset. */
function pcrelPair(p1: Pass1, sym: string, second: (lo: number) => number, tmp: number): CodeStmt {
  const target = expr(p1, sym);
  return {
    size: 8,
    pcrelHi: target,
    emit: (env) => {
      const off = pcrel(target, env);
      return [E.auipc(tmp, H(off)), second(L(off))];
    },
  };
}

/** li rd, value: GNU's load_const for RV32: ADDI alone, LUI alone, or LUI + ADDI. A value
 *  not known in pass 1 (a label) always takes LUI + ADDI. */
function li(p1: Pass1, ops: string[]): CodeStmt {
  argc('li', ops, 2);
  const rd = xreg(ops[0]!);
  const e = expr(p1, ops[1]!);
  const check32 = (v: bigint): bigint => {
    if (v < -(1n << 31n) || v >= 1n << 32n) throw new StatementError(`li: value ${v} does not fit in 32 bits`);
    return BigInt.asIntN(32, v);
  };
  const c = p1.tryConst(e);
  if (c === undefined) {
    return { size: 8, emit: (env) => { const v = check32(evalExpr(e, env)); return [E.lui(rd, H(v)), E.addi(rd, rd, L(v))]; } };
  }
  const v = check32(c);
  const hi = H(v);
  const lo = L(v);
  const words = hi === 0 ? [E.addi(rd, 0, lo)] : lo === 0 ? [E.lui(rd, hi)] : [E.lui(rd, hi), E.addi(rd, rd, lo)];
  return { size: words.length * 4, emit: () => words };
}

function la(mn: string): Pseudo {
  return (p1, ops) => {
    argc(mn, ops, 2);
    const rd = xreg(ops[0]!);
    return pcrelPair(p1, ops[1]!, (lo) => E.addi(rd, rd, lo), rd);
  };
}

/** `lw rd, symbol` (rd is the temporary) and `flw fd, symbol, rt`: AUIPC + load. */
function globalLoad(mn: string, fp: boolean): Pseudo {
  const spec = lookupInsn(mn)!;
  return (p1, ops) => {
    if (ops.length === 2 && parseMem(p1, ops[1]!) !== undefined) return undefined;
    if (fp ? ops.length !== 3 : ops.length !== 2 && ops.length !== 3) return undefined;
    const rd = fp ? freg(ops[0]!) : xreg(ops[0]!);
    const tmp = ops.length === 3 ? xreg(ops[2]!) : rd;
    return pcrelPair(p1, ops[1]!, (lo) => E.encodeInsn(spec, { rd, rs1: tmp, imm: lo }), tmp);
  };
}

/** `sw rs2, symbol, rt`: AUIPC rt + store. */
function globalStore(mn: string, fp: boolean): Pseudo {
  const spec = lookupInsn(mn)!;
  return (p1, ops) => {
    if (ops.length !== 3) return undefined;
    const rs2 = fp ? freg(ops[0]!) : xreg(ops[0]!);
    const tmp = xreg(ops[2]!);
    return pcrelPair(p1, ops[1]!, (lo) => E.encodeInsn(spec, { rs1: tmp, rs2, imm: lo }), tmp);
  };
}

function callTail(mn: 'call' | 'tail'): Pseudo {
  return (p1, ops) => {
    argc(mn, ops, 1, 2);
    // call [rd,] sym: AUIPC rd + JALR rd (rd defaults to ra); tail: AUIPC t1 + JALR zero.
    const link = mn === 'call' ? (ops.length === 2 ? xreg(ops[0]!) : 1) : 0;
    const tmp = mn === 'call' ? link : 6;
    if (mn === 'tail' && ops.length !== 1) throw new StatementError(`'tail' takes 1 operand, got ${ops.length}`);
    return pcrelPair(p1, ops[ops.length - 1]!, (lo) => E.jalr(link, tmp, lo), tmp);
  };
}

/** csrw/csrs/csrc csr, rs|imm: the register form, or the immediate form (csrrXi) for a value. */
function csrWrite(mn: string, regForm: string, immForm: string): Pseudo {
  return (p1, ops) => {
    argc(mn, ops, 2);
    return real(p1, isXreg(ops[1]!) ? regForm : immForm, ['zero', ops[0]!, ops[1]!]);
  };
}

/** Read a CSR (`frcsr rd`) or swap it (`fscsr [rd,] rs`), for fcsr / frm / fflags. */
function csrRead(mn: string, csr: string): Pseudo {
  return alias(mn, 1, 'csrrs', (o) => [o[0]!, csr, 'zero']);
}
function csrSwap(mn: string, csr: string, immediate: boolean): Pseudo {
  return alias(mn, [1, 2], immediate ? 'csrrwi' : 'csrrw', (o) => o.length === 1 ? ['zero', csr, o[0]!] : [o[0]!, csr, o[1]!]);
}

const swap = (o: string[]): string[] => [o[1]!, o[0]!, o[2]!];

export const PSEUDOS: ReadonlyMap<string, Pseudo> = new Map<string, Pseudo>([
  ['nop', alias('nop', 0, 'addi', () => ['zero', 'zero', '0'])],
  ['li', li],
  ['la', la('la')],
  ['lla', la('lla')],
  ['mv', alias('mv', 2, 'addi', (o) => [o[0]!, o[1]!, '0'])],
  ['not', alias('not', 2, 'xori', (o) => [o[0]!, o[1]!, '-1'])],
  ['neg', alias('neg', 2, 'sub', (o) => [o[0]!, 'zero', o[1]!])],
  ['seqz', alias('seqz', 2, 'sltiu', (o) => [o[0]!, o[1]!, '1'])],
  ['snez', alias('snez', 2, 'sltu', (o) => [o[0]!, 'zero', o[1]!])],
  ['sltz', alias('sltz', 2, 'slt', (o) => [o[0]!, o[1]!, 'zero'])],
  ['sgtz', alias('sgtz', 2, 'slt', (o) => [o[0]!, 'zero', o[1]!])],
  ['sgt', alias('sgt', 3, 'slt', (o) => [o[0]!, o[2]!, o[1]!])],
  ['sgtu', alias('sgtu', 3, 'sltu', (o) => [o[0]!, o[2]!, o[1]!])],
  ['zext.b', alias('zext.b', 2, 'andi', (o) => [o[0]!, o[1]!, '255'])],
  ['beqz', alias('beqz', 2, 'beq', (o) => [o[0]!, 'zero', o[1]!])],
  ['bnez', alias('bnez', 2, 'bne', (o) => [o[0]!, 'zero', o[1]!])],
  ['blez', alias('blez', 2, 'bge', (o) => ['zero', o[0]!, o[1]!])],
  ['bgez', alias('bgez', 2, 'bge', (o) => [o[0]!, 'zero', o[1]!])],
  ['bltz', alias('bltz', 2, 'blt', (o) => [o[0]!, 'zero', o[1]!])],
  ['bgtz', alias('bgtz', 2, 'blt', (o) => ['zero', o[0]!, o[1]!])],
  ['bgt', alias('bgt', 3, 'blt', swap)],
  ['ble', alias('ble', 3, 'bge', swap)],
  ['bgtu', alias('bgtu', 3, 'bltu', swap)],
  ['bleu', alias('bleu', 3, 'bgeu', swap)],
  ['j', alias('j', 1, 'jal', (o) => ['zero', o[0]!])],
  ['jal', (p1, ops) => (ops.length === 1 ? real(p1, 'jal', ['ra', ops[0]!]) : undefined)],
  ['jr', alias('jr', 1, 'jalr', (o) => ['zero', `0(${o[0]})`])],
  ['jalr', (p1, ops) => {
    // jalr rs | jalr rd, rs | jalr rd, rs, imm   (the real form is jalr rd, imm(rs))
    if (ops.length === 1) return real(p1, 'jalr', ['ra', `0(${ops[0]})`]);
    if (ops.length === 2 && isXreg(ops[1]!)) return real(p1, 'jalr', [ops[0]!, `0(${ops[1]})`]);
    if (ops.length === 3) return real(p1, 'jalr', [ops[0]!, `(${ops[2]})(${ops[1]})`]);
    return undefined;
  }],
  ['ret', alias('ret', 0, 'jalr', () => ['zero', '0(ra)'])],
  ['call', callTail('call')],
  ['tail', callTail('tail')],
  ['csrr', alias('csrr', 2, 'csrrs', (o) => [o[0]!, o[1]!, 'zero'])],
  ['csrw', csrWrite('csrw', 'csrrw', 'csrrwi')],
  ['csrs', csrWrite('csrs', 'csrrs', 'csrrsi')],
  ['csrc', csrWrite('csrc', 'csrrc', 'csrrci')],
  ['csrwi', alias('csrwi', 2, 'csrrwi', (o) => ['zero', o[0]!, o[1]!])],
  ['csrsi', alias('csrsi', 2, 'csrrsi', (o) => ['zero', o[0]!, o[1]!])],
  ['csrci', alias('csrci', 2, 'csrrci', (o) => ['zero', o[0]!, o[1]!])],
  ...(['cycle', 'time', 'instret', 'cycleh', 'timeh', 'instreth'].map((c): [string, Pseudo] =>
    [`rd${c}`, csrRead(`rd${c}`, c)])),
  ['frcsr', csrRead('frcsr', 'fcsr')],
  ['fscsr', csrSwap('fscsr', 'fcsr', false)],
  ['frrm', csrRead('frrm', 'frm')],
  ['fsrm', csrSwap('fsrm', 'frm', false)],
  ['fsrmi', csrSwap('fsrmi', 'frm', true)],
  ['frflags', csrRead('frflags', 'fflags')],
  ['fsflags', csrSwap('fsflags', 'fflags', false)],
  ['fsflagsi', csrSwap('fsflagsi', 'fflags', true)],
  ...(['s', 'd'].flatMap((t): [string, Pseudo][] => [
    [`fmv.${t}`, alias(`fmv.${t}`, 2, `fsgnj.${t}`, (o) => [o[0]!, o[1]!, o[1]!])],
    [`fabs.${t}`, alias(`fabs.${t}`, 2, `fsgnjx.${t}`, (o) => [o[0]!, o[1]!, o[1]!])],
    [`fneg.${t}`, alias(`fneg.${t}`, 2, `fsgnjn.${t}`, (o) => [o[0]!, o[1]!, o[1]!])],
  ])),
  ['fmv.x.s', alias('fmv.x.s', 2, 'fmv.x.w', (o) => o)],
  ['fmv.s.x', alias('fmv.s.x', 2, 'fmv.w.x', (o) => o)],
  ['sfence.vma', (p1, ops) => (ops.length < 2 ? real(p1, 'sfence.vma', [ops[0] ?? 'zero', 'zero']) : undefined)],
  ['fence', (p1, ops) => (ops.length === 0 ? real(p1, 'fence', ['iorw', 'iorw']) : undefined)],
  // UNIMP: GNU's 32-bit encoding, csrrw zero, cycle, zero (a write to a read-only CSR traps).
  ['unimp', alias('unimp', 0, 'csrrw', () => ['zero', 'cycle', 'zero'])],
  ...(['lb', 'lh', 'lw', 'lbu', 'lhu'].map((m): [string, Pseudo] => [m, globalLoad(m, false)])),
  ...(['flw', 'fld'].map((m): [string, Pseudo] => [m, globalLoad(m, true)])),
  ...(['sb', 'sh', 'sw'].map((m): [string, Pseudo] => [m, globalStore(m, false)])),
  ...(['fsw', 'fsd'].map((m): [string, Pseudo] => [m, globalStore(m, true)])),
]);
