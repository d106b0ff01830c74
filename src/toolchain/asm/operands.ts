// Operand parsing and real-instruction assembly. Pass 1 parses operand text against the
// instruction table (rv32/opcodes.ts); the result is an `Emit` closure that pass 2 calls with
// the symbol environment to produce the instruction word(s).

import { encodeInsn, type InsnFields } from '../rv32/encode.ts';
import {
  CSR_NUMBERS, ROUNDING_MODES, fregNumber, xregNumber, type InsnSpec, type OperandKind,
} from '../rv32/opcodes.ts';
import { evalExpr, parseExpr, Unresolved, type Expr, type ExprEnv, type LocalRef } from './expr.ts';
import { StatementError, UndefinedSymbol } from './source.ts';

/** Pass-2 code generator for one statement: returns the instruction words in order. */
export type Emit = (env: ExprEnv) => number[];

/** What pass 1 offers statement parsers. */
export interface Pass1 {
  readonly localRef: LocalRef;
  /** The value of `e` if it is already known (constants and constant .equ symbols). */
  tryConst(e: Expr): bigint | undefined;
}

export function expr(p1: Pass1, text: string): Expr {
  return parseExpr(text, p1.localRef);
}

/** Evaluate `e` in pass 1 if possible, else undefined. */
export function tryConst(e: Expr, env: ExprEnv): bigint | undefined {
  try {
    return evalExpr(e, env);
  } catch (err) {
    if (err instanceof Unresolved) return undefined;
    throw err;
  }
}

/** Evaluate to a JS number, checking lo..hi (hi may exceed 2^31 for unsigned fields). */
export function evalIn(e: Expr, env: ExprEnv, what: string, lo: number, hi: number): number {
  const v = evalExpr(e, env);
  if (v < BigInt(lo) || v > BigInt(hi)) throw new StatementError(`${what} ${v} out of range ${lo}..${hi}`);
  return Number(v);
}

export function xreg(text: string): number {
  const r = xregNumber(text.trim());
  if (r === undefined) throw new StatementError(`'${text}' is not an integer register`);
  return r;
}

export function freg(text: string): number {
  const r = fregNumber(text.trim());
  if (r === undefined) throw new StatementError(`'${text}' is not a floating-point register`);
  return r;
}

export function isXreg(text: string): boolean {
  return xregNumber(text.trim()) !== undefined;
}

/** `offset(reg)` or `(reg)`: the offset expression (undefined when absent) and the register.
 *  Returns undefined when the text does not end in a parenthesised integer register, and
 *  throws when it ends in `name(word)` with a word that is not a register. */
export function parseMem(p1: Pass1, text: string): { off: Expr | undefined; rs1: number } | undefined {
  const m = /^(.*)\(\s*([A-Za-z0-9]+)\s*\)$/.exec(text.trim());
  if (!m) return undefined;
  const rs1 = xregNumber(m[2]!);
  if (rs1 === undefined) {
    // `sym(word)` is a misspelt base register; `(8)` or `4*(2)` are plain expressions.
    if (/^[A-Za-z]/.test(m[2]!) && /[A-Za-z0-9_.$]$/.test(m[1]!.trim())) throw new StatementError(`'${m[2]}' is not an integer register`);
    return undefined;
  }
  const off = m[1]!.trim();
  return { off: off === '' ? undefined : expr(p1, off), rs1 };
}

/** A CSR operand: a standard name (Privileged ISA 2.2) or an expression for the number. */
export function csrOperand(p1: Pass1, text: string): (env: ExprEnv) => number {
  const t = text.trim();
  const n = CSR_NUMBERS.get(t);
  if (n !== undefined) return () => n;
  const e = expr(p1, t);
  return (env) => {
    try {
      return evalIn(e, env, 'CSR number', 0, 4095);
    } catch (err) {
      // A bare word that is neither a CSR name nor a symbol is a misspelt CSR ("mstatsu").
      if (err instanceof UndefinedSymbol && e.k === 'sym') throw new StatementError(`unknown CSR '${t}'`);
      throw err;
    }
  };
}

/** A FENCE set: a non-empty subset of `iorw` written in that order (RV32I 2.7). */
export function fenceSet(text: string): number {
  const t = text.trim();
  if (!/^i?o?r?w?$/.test(t) || t === '') throw new StatementError(`bad fence set '${t}' (use letters of iorw, in order)`);
  return (t.includes('i') ? 8 : 0) | (t.includes('o') ? 4 : 0) | (t.includes('r') ? 2 : 0) | (t.includes('w') ? 1 : 0);
}

export function roundingMode(text: string): number {
  const rm = ROUNDING_MODES[text.trim()];
  if (rm === undefined) throw new StatementError(`bad rounding mode '${text.trim()}' (rne, rtz, rdn, rup, rmm, dyn)`);
  return rm;
}

type Setter = (env: ExprEnv, f: InsnFields) => void;

const KIND_NAMES: Record<OperandKind, string> = {
  rd: 'rd', rs1: 'rs1', rs2: 'rs2', fd: 'fd', fs1: 'fs1', fs2: 'fs2', fs3: 'fs3', imm: 'imm',
  shamt: 'shamt', mem: 'offset(rs1)', amem: '(rs1)', boff: 'label', joff: 'label', uimm: 'imm20',
  csr: 'csr', zimm: 'uimm5', rm: '[rm]', pred: 'pred', succ: 'succ',
};

/** The operand synopsis of an instruction, e.g. "rd, rs1, imm". */
export function synopsis(spec: InsnSpec): string {
  return spec.operands.map((k) => KIND_NAMES[k]).join(', ');
}

function operandSetter(p1: Pass1, kind: OperandKind, text: string): Setter {
  switch (kind) {
    case 'rd': { const r = xreg(text); return (_, f) => { f.rd = r; }; }
    case 'rs1': { const r = xreg(text); return (_, f) => { f.rs1 = r; }; }
    case 'rs2': { const r = xreg(text); return (_, f) => { f.rs2 = r; }; }
    case 'fd': { const r = freg(text); return (_, f) => { f.rd = r; }; }
    case 'fs1': { const r = freg(text); return (_, f) => { f.rs1 = r; }; }
    case 'fs2': { const r = freg(text); return (_, f) => { f.rs2 = r; }; }
    case 'fs3': { const r = freg(text); return (_, f) => { f.rs3 = r; }; }
    case 'imm': { const e = expr(p1, text); return (env, f) => { f.imm = evalIn(e, env, 'immediate', -2048, 2047); }; }
    case 'shamt': { const e = expr(p1, text); return (env, f) => { f.imm = evalIn(e, env, 'shift amount', 0, 31); }; }
    case 'uimm': { const e = expr(p1, text); return (env, f) => { f.imm = evalIn(e, env, 'upper immediate', 0, 0xfffff); }; }
    case 'zimm': { const e = expr(p1, text); return (env, f) => { f.rs1 = evalIn(e, env, 'CSR immediate', 0, 31); }; }
    case 'csr': { const c = csrOperand(p1, text); return (env, f) => { f.imm = c(env); }; }
    case 'boff': case 'joff': {
      const e = expr(p1, text);
      return (env, f) => { f.imm = Number(evalExpr(e, env) - BigInt(env.dot())); };
    }
    case 'mem': {
      const m = parseMem(p1, text);
      if (m === undefined) throw new StatementError(`expected offset(register), got '${text}'`);
      const { off, rs1 } = m;
      return (env, f) => { f.rs1 = rs1; f.imm = off ? evalIn(off, env, 'offset', -2048, 2047) : 0; };
    }
    case 'amem': {
      const m = parseMem(p1, text);
      if (m === undefined) throw new StatementError(`expected (register), got '${text}'`);
      const { off, rs1 } = m;
      return (env, f) => {
        if (off !== undefined && evalExpr(off, env) !== 0n) throw new StatementError('atomic memory operand must have offset 0');
        f.rs1 = rs1;
      };
    }
    case 'rm': { const rm = roundingMode(text); return (_, f) => { f.rm = rm; }; }
    case 'pred': { const s = fenceSet(text); return (_, f) => { f.pred = s; }; }
    case 'succ': { const s = fenceSet(text); return (_, f) => { f.succ = s; }; }
  }
}

/**
 * Parse the operands of real instruction `spec` (a trailing rounding mode is optional) and
 * return its one-word Emit. `aq`/`rl` come from an AMO mnemonic suffix.
 */
export function realInsn(p1: Pass1, spec: InsnSpec, ops: readonly string[], aq = false, rl = false): Emit {
  const kinds = spec.operands;
  const optionalRm = kinds[kinds.length - 1] === 'rm';
  const min = optionalRm ? kinds.length - 1 : kinds.length;
  if (ops.length < min || ops.length > kinds.length) {
    const want = optionalRm ? `${min} or ${kinds.length}` : String(min);
    throw new StatementError(`'${spec.mnemonic}' takes ${want} operands (${synopsis(spec)}), got ${ops.length}`);
  }
  const setters = ops.map((t, i) => operandSetter(p1, kinds[i]!, t));
  return (env) => {
    const f: InsnFields = { aq, rl };
    for (const s of setters) s(env, f);
    return [encodeInsn(spec, f)];
  };
}
