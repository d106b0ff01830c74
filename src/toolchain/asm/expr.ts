// Assembler expressions: parse once (pass 1), evaluate when symbols are known (pass 2).
//
// Syntax (GNU as, Using as chapter 6, with the RISC-V operators of the psABI "Assembler
// relocation functions"): integers (decimal, 0x hex, 0b binary, leading-0 octal), character
// literals 'c', symbols, `.` (the address of the current statement), numeric local label
// references `1f` / `1b`, parentheses, unary - ~ +, binary * / % << >> & | ^ + -, and
// %hi(x) %lo(x) %pcrel_hi(x) %pcrel_lo(label).
//
// Precedence is GNU's, not C's (Using as 6.2.2): * / % << >> bind tightest, then | & ^, then
// + -. Arithmetic is exact (BigInt); each use site checks the range it needs.

import { StatementError } from './source.ts';

export type RelocFn = 'hi' | 'lo' | 'pcrel_hi' | 'pcrel_lo';

export type Expr =
  | { readonly k: 'num'; readonly v: bigint }
  | { readonly k: 'sym'; readonly name: string }
  | { readonly k: 'dot' }
  | { readonly k: 'un'; readonly op: '-' | '~'; readonly e: Expr }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'fn'; readonly fn: RelocFn; readonly e: Expr };

/** What evaluation needs from the assembler. */
export interface ExprEnv {
  /** Value of a symbol; throws StatementError if undefined, Unresolved if not known yet. */
  symbol(name: string): bigint;
  /** Address of the current statement; throws Unresolved before layout. */
  dot(): number;
  /** The full PC-relative offset (target - address) of the %pcrel_hi at `auipcAddr`. */
  pcrelHi(auipcAddr: number): bigint;
}

/** Thrown while a value cannot be known yet (pass 1, before section layout). */
export class Unresolved extends Error {
  constructor(what: string) {
    super(`${what} is not known yet`);
    this.name = 'Unresolved';
  }
}

/** Resolves a numeric local label reference (`1f`, `1b`) to an internal symbol name. */
export type LocalRef = (label: string, dir: 'f' | 'b') => string;

const PREC: Record<string, number> = {
  '*': 3, '/': 3, '%': 3, '<<': 3, '>>': 3, '|': 2, '&': 2, '^': 2, '+': 1, '-': 1,
};

const CHAR_ESCAPES: Record<string, number> = {
  n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '0': 0, '\\': 92, "'": 39, '"': 34,
};

type Token =
  | { t: 'num'; v: bigint } | { t: 'id'; v: string } | { t: 'op'; v: string }
  | { t: 'fn'; v: RelocFn } | { t: 'end' };

function tokenize(src: string, localRef: LocalRef): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if (/^\s/.test(rest)) { i++; continue; }
    if ((m = /^%(pcrel_hi|pcrel_lo|hi|lo)\b/.exec(rest))) {
      out.push({ t: 'fn', v: m[1] as RelocFn });
    } else if ((m = /^0[xX][0-9a-fA-F]+\b/.exec(rest)) || (m = /^0[bB][01]+\b/.exec(rest))) {
      out.push({ t: 'num', v: BigInt(m[0]) });
    } else if ((m = /^([0-9]+)([fb])\b/.exec(rest))) {
      out.push({ t: 'id', v: localRef(m[1]!, m[2] as 'f' | 'b') });
    } else if ((m = /^[0-9][0-9a-zA-Z_]*/.exec(rest))) {
      const s = m[0];
      if (/^[1-9][0-9]*$|^0$/.test(s)) out.push({ t: 'num', v: BigInt(s) });
      else if (/^0[0-7]+$/.test(s)) out.push({ t: 'num', v: BigInt(`0o${s.slice(1)}`) });
      else throw new StatementError(`bad number '${s}'`);
    } else if ((m = /^'(\\[0-7]{1,3}|\\.|[^\\])'?/.exec(rest))) {
      const c = m[1]!;
      let v: number;
      if (c[0] !== '\\') v = c.codePointAt(0)!;
      else if (/^\\[0-7]+$/.test(c)) v = parseInt(c.slice(1), 8);
      else if (c[1]! in CHAR_ESCAPES) v = CHAR_ESCAPES[c[1]!]!;
      else throw new StatementError(`unknown escape ${c} in character literal`);
      out.push({ t: 'num', v: BigInt(v) });
    } else if ((m = /^[A-Za-z_.$][A-Za-z0-9_.$]*/.exec(rest))) {
      out.push({ t: 'id', v: m[0] });
    } else if ((m = /^(<<|>>|[-+*/%&|^~()])/.exec(rest))) {
      out.push({ t: 'op', v: m[0] });
    } else {
      throw new StatementError(`unexpected '${rest[0]}' in expression '${src.trim()}'`);
    }
    i += m[0].length;
  }
  out.push({ t: 'end' });
  return out;
}

/** Parse `src` into an expression; local label references are resolved through `localRef`. */
export function parseExpr(src: string, localRef: LocalRef): Expr {
  if (src.trim() === '') throw new StatementError('missing expression');
  const toks = tokenize(src, localRef);
  let p = 0;
  const peek = (): Token => toks[p]!;
  const bad = (): never => {
    const t = peek();
    const what = t.t === 'end' ? 'end of expression' : `'${String(t.v)}'`;
    throw new StatementError(`unexpected ${what} in expression '${src.trim()}'`);
  };
  const expect = (v: string): void => {
    const t = peek();
    if (t.t !== 'op' || t.v !== v) bad();
    p++;
  };
  const primary = (): Expr => {
    const t = toks[p++]!;
    switch (t.t) {
      case 'num': return { k: 'num', v: t.v };
      case 'id': return t.v === '.' ? { k: 'dot' } : { k: 'sym', name: t.v };
      case 'fn': {
        expect('(');
        const e = binary(0);
        expect(')');
        return { k: 'fn', fn: t.v, e };
      }
      case 'op':
        if (t.v === '(') { const e = binary(0); expect(')'); return e; }
        if (t.v === '-' || t.v === '~') return { k: 'un', op: t.v, e: primary() };
        if (t.v === '+') return primary();
    }
    p--;
    return bad();
  };
  const binary = (minPrec: number): Expr => {
    let a = primary();
    for (;;) {
      const t = peek();
      const prec = t.t === 'op' ? PREC[t.v] : undefined;
      if (prec === undefined || prec <= minPrec) return a;
      p++;
      a = { k: 'bin', op: (t as { v: string }).v, a, b: binary(prec) };
    }
  };
  const e = binary(0);
  if (peek().t !== 'end') bad();
  return e;
}

const MASK32 = 0xffffffffn;

/** Sign-extend the low 12 bits (the %lo / I-immediate part of a value). */
export function lo12(v: bigint): bigint {
  return BigInt.asIntN(12, v);
}

/** The 20-bit upper part that pairs with lo12: (v + 0x800) >> 12, as 0..0xfffff. */
export function hi20(v: bigint): bigint {
  return (((v & MASK32) + 0x800n) >> 12n) & 0xfffffn;
}

/** Evaluate `e` (exact integer arithmetic). */
export function evalExpr(e: Expr, env: ExprEnv): bigint {
  switch (e.k) {
    case 'num': return e.v;
    case 'sym': return env.symbol(e.name);
    case 'dot': return BigInt(env.dot());
    case 'un': {
      const v = evalExpr(e.e, env);
      return e.op === '-' ? -v : ~v;
    }
    case 'fn': return evalFn(e.fn, evalExpr(e.e, env), env);
    case 'bin': return evalBin(e.op, evalExpr(e.a, env), evalExpr(e.b, env));
  }
}

function evalFn(fn: RelocFn, v: bigint, env: ExprEnv): bigint {
  switch (fn) {
    case 'hi': return hi20(v);
    case 'lo': return lo12(v);
    case 'pcrel_hi': return hi20(v - BigInt(env.dot()));
    case 'pcrel_lo': return lo12(env.pcrelHi(Number(v & MASK32)));
  }
}

function evalBin(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    case '/': case '%':
      if (b === 0n) throw new StatementError('division by zero in expression');
      return op === '/' ? a / b : a % b;
    case '<<': case '>>':
      if (b < 0n || b > 63n) throw new StatementError(`shift count ${b} out of range 0..63`);
      return op === '<<' ? BigInt.asIntN(64, a << b) : a >> b;
    case '&': return a & b;
    case '|': return a | b;
    case '^': return a ^ b;
  }
  throw new Error(`expr: unknown operator ${op}`);
}

/** The %pcrel_hi operand inside `e`, if `e` uses one (marks an AUIPC that a %pcrel_lo may
 *  refer to by its label). */
export function findPcrelHi(e: Expr): Expr | undefined {
  switch (e.k) {
    case 'fn': return e.fn === 'pcrel_hi' ? e.e : findPcrelHi(e.e);
    case 'un': return findPcrelHi(e.e);
    case 'bin': return findPcrelHi(e.a) ?? findPcrelHi(e.b);
    default: return undefined;
  }
}
