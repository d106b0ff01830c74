// Data and alignment directives (Using as, chapter 7). Each data directive has a size fixed in
// pass 1 and produces its bytes in pass 2. Section, symbol and option directives change the
// assembler's state and live with the driver (asm.ts). Data is little-endian (RISC-V).

import { evalExpr, type ExprEnv } from './expr.ts';
import { expr, type Pass1 } from './operands.ts';
import { StatementError, parseString, splitOperands } from './source.ts';

/** A statement that emits data: exactly `size` bytes. */
export interface DataStmt {
  readonly size: number;
  readonly emit: (env: ExprEnv) => Uint8Array;
}

const INT_WIDTH: Readonly<Record<string, number>> = {
  '.byte': 1, '.half': 2, '.short': 2, '.2byte': 2, '.word': 4, '.long': 4, '.4byte': 4,
  '.dword': 8, '.quad': 8, '.8byte': 8,
};

/** Parse a floating-point literal: decimal/exponent form, optional GNU `0f`/`0d` prefix,
 *  `inf` and `nan` with an optional sign. */
function parseFloatLiteral(text: string): number {
  let t = text.trim().toLowerCase();
  let sign = 1;
  if (t.startsWith('-')) { sign = -1; t = t.slice(1); } else if (t.startsWith('+')) t = t.slice(1);
  if (/^0[fde]/.test(t)) t = t.slice(2);
  if (t === 'inf' || t === 'infinity') return sign * Infinity;
  if (t === 'nan') return NaN;
  if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) throw new StatementError(`bad floating-point number '${text.trim()}'`);
  return sign * Number(t);
}

function intData(p1: Pass1, width: number, args: string, name: string): DataStmt {
  const exprs = splitOperands(args).map((a) => expr(p1, a));
  if (exprs.length === 0) throw new StatementError(`'${name}' needs at least one value`);
  const bits = BigInt(width * 8);
  const lo = -(1n << (bits - 1n));
  const hi = (1n << bits) - 1n;
  return {
    size: width * exprs.length,
    emit: (env) => {
      const out = new Uint8Array(width * exprs.length);
      const dv = new DataView(out.buffer);
      exprs.forEach((e, i) => {
        const v = evalExpr(e, env);
        if (v < lo || v > hi) throw new StatementError(`${name} value ${v} out of range ${lo}..${hi}`);
        if (width === 8) dv.setBigUint64(i * 8, BigInt.asUintN(64, v), true);
        else if (width === 4) dv.setUint32(i * 4, Number(BigInt.asUintN(32, v)), true);
        else if (width === 2) dv.setUint16(i * 2, Number(BigInt.asUintN(16, v)), true);
        else dv.setUint8(i, Number(BigInt.asUintN(8, v)));
      });
      return out;
    },
  };
}

/** The data directive `name args`, or undefined if `name` is not a data directive. */
export function dataDirective(p1: Pass1, name: string, args: string): DataStmt | undefined {
  const width = INT_WIDTH[name];
  if (width !== undefined) return intData(p1, width, args, name);
  switch (name) {
    case '.float': case '.double': {
      const w = name === '.float' ? 4 : 8;
      const vals = splitOperands(args).map(parseFloatLiteral);
      if (vals.length === 0) throw new StatementError(`'${name}' needs at least one value`);
      const out = new Uint8Array(w * vals.length);
      const dv = new DataView(out.buffer);
      vals.forEach((v, i) => (w === 4 ? dv.setFloat32(i * 4, v, true) : dv.setFloat64(i * 8, v, true)));
      return { size: out.length, emit: () => out };
    }
    case '.string': case '.asciz': case '.ascii': {
      const strs = splitOperands(args).map(parseString);
      if (strs.length === 0) throw new StatementError(`'${name}' needs at least one string`);
      const nul = name === '.ascii' ? 0 : 1;
      const out = new Uint8Array(strs.reduce((n, s) => n + s.length + nul, 0));
      let at = 0;
      for (const s of strs) { out.set(s, at); at += s.length + nul; }
      return { size: out.length, emit: () => out };
    }
    case '.space': case '.zero': case '.skip': {
      const ops = splitOperands(args);
      if (ops.length < 1 || ops.length > (name === '.zero' ? 1 : 2)) {
        throw new StatementError(`'${name}' takes ${name === '.zero' ? 'a size' : 'a size and an optional fill byte'}`);
      }
      const size = constArg(p1, ops[0]!, name, 0, 1 << 30);
      const fill = ops[1] === undefined ? 0 : constArg(p1, ops[1], `${name} fill`, -128, 255) & 0xff;
      return { size, emit: () => new Uint8Array(size).fill(fill) };
    }
  }
  return undefined;
}

/** An argument that must be a constant already in pass 1 (it decides a size or layout). */
export function constArg(p1: Pass1, text: string, what: string, lo: number, hi: number): number {
  const v = p1.tryConst(expr(p1, text));
  if (v === undefined) throw new StatementError(`${what}: '${text}' must be a constant`);
  if (v < BigInt(lo) || v > BigInt(hi)) throw new StatementError(`${what} ${v} out of range ${lo}..${hi}`);
  return Number(v);
}

/** Alignment request of .align/.p2align/.balign: `align` bytes (a power of two), optional fill
 *  byte (default: NOPs in code, zeros elsewhere) and optional maximum padding. */
export interface AlignReq { readonly align: number; readonly fill?: number; readonly max?: number }

/** Parse an alignment directive. On RISC-V `.align N` means 2^N bytes, like `.p2align`. */
export function alignDirective(p1: Pass1, name: string, args: string): AlignReq {
  const ops = splitOperands(args);
  if (ops.length < 1 || ops.length > 3) throw new StatementError(`'${name}' takes 1 to 3 operands`);
  let align: number;
  if (name === '.balign') {
    align = constArg(p1, ops[0]!, name, 1, 4096);
    if ((align & (align - 1)) !== 0) throw new StatementError(`.balign: ${align} is not a power of two`);
  } else {
    align = 1 << constArg(p1, ops[0]!, name, 0, 12);
  }
  const fill = ops[1] === undefined || ops[1] === '' ? undefined : constArg(p1, ops[1], `${name} fill`, -128, 255) & 0xff;
  const max = ops[2] === undefined ? undefined : constArg(p1, ops[2], `${name} max`, 0, 4096);
  return { align, fill, max };
}

/** The padding bytes that bring `offset` to the alignment; code pads with NOP words
 *  (addi zero, zero, 0) after zero bytes up to a word boundary. */
export function alignPadding(req: AlignReq, offset: number, code: boolean): Uint8Array {
  const pad = (req.align - (offset % req.align)) % req.align;
  if (req.max !== undefined && pad > req.max) return new Uint8Array(0);
  const out = new Uint8Array(pad);
  if (req.fill !== undefined) return out.fill(req.fill);
  if (code) {
    const dv = new DataView(out.buffer);
    for (let at = pad % 4; at < pad; at += 4) dv.setUint32(at, 0x00000013, true);
  }
  return out;
}
