// Differential tests of the F and D arithmetic against an exact reference.
//
// The reference below shares no code with fpu*.ts: it decodes operands to exact rationals with
// BigInt, computes the exact result, and rounds it the textbook way (IEEE 754-2019 §4.3, §7;
// tininess after rounding as the RISC-V F chapter requires), including NaN, infinity, signed
// zero and flag rules. Operands are drawn from a seeded generator biased toward the hard
// cases: halfway points, cancellation, subnormals, the overflow and underflow thresholds,
// powers of two, and special values. Every instruction runs through execFp, in all five
// rounding modes (statically and via frm).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFp, type FpuHost } from './fpu.ts';
import * as E from '../toolchain/rv32/encode.ts';

const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;
const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;

// ---- the reference --------------------------------------------------------------------------

interface Fmt { readonly width: 32 | 64; readonly p: number; readonly emin: number; readonly emax: number }
const S: Fmt = { width: 32, p: 24, emin: -126, emax: 127 };
const D: Fmt = { width: 64, p: 53, emin: -1022, emax: 1023 };

type Val =
  | { k: 'nan'; snan: boolean }
  | { k: 'inf'; neg: boolean }
  | { k: 'zero'; neg: boolean }
  | { k: 'fin'; neg: boolean; sig: bigint; exp: number }; // value = ±sig · 2^exp, sig > 0

function decode(bits: bigint, f: Fmt): Val {
  const fb = BigInt(f.p - 1);
  const neg = (bits >> BigInt(f.width - 1)) & 1n ? true : false;
  const ef = Number((bits >> fb) & BigInt(2 * f.emax + 1));
  const frac = bits & ((1n << fb) - 1n);
  if (ef === 2 * f.emax + 1) return frac === 0n ? { k: 'inf', neg } : { k: 'nan', snan: ((frac >> (fb - 1n)) & 1n) === 0n };
  if (ef === 0) return frac === 0n ? { k: 'zero', neg } : { k: 'fin', neg, sig: frac, exp: f.emin - (f.p - 1) };
  return { k: 'fin', neg, sig: frac | (1n << fb), exp: ef - f.emax - (f.p - 1) };
}

const bitlen = (n: bigint): number => (n === 0n ? 0 : n.toString(2).length);
const canon = (f: Fmt): bigint => (f.width === 32 ? 0x7fc00000n : 0x7ff8000000000000n);
const infBits = (f: Fmt, neg: boolean): bigint => (BigInt(2 * f.emax + 1) << BigInt(f.p - 1)) | (neg ? 1n << BigInt(f.width - 1) : 0n);
const zeroBits = (f: Fmt, neg: boolean): bigint => (neg ? 1n << BigInt(f.width - 1) : 0n);
const maxBits = (f: Fmt, neg: boolean): bigint => infBits(f, neg) - 1n;

interface Res { bits: bigint; flags: number }

/** Increment decision for a discarded part compared with half a unit (cls: 1 above, 0 equal, −1 below). */
function inc(cls: number, odd: boolean, rm: number, neg: boolean): boolean {
  if (rm === RNE) return cls > 0 || (cls === 0 && odd);
  if (rm === RMM) return cls >= 0;
  if (rm === RDN) return neg;
  if (rm === RUP) return !neg;
  return false;
}

/** Round ±num/den (num > 0) to format f. */
function round(neg: boolean, num: bigint, den: bigint, f: Fmt, rm: number): Res {
  let E = bitlen(num) - bitlen(den);
  const ge = (e: number): boolean => (e >= 0 ? num >= den << BigInt(e) : num << BigInt(-e) >= den);
  if (!ge(E)) E--;
  const at = (q: number): { kept: bigint; inexact: boolean } => {
    const N = q < 0 ? num << BigInt(-q) : num, Dd = q < 0 ? den : den << BigInt(q);
    const k = N / Dd, r = N - k * Dd;
    if (r === 0n) return { kept: k, inexact: false };
    const cls = 2n * r > Dd ? 1 : 2n * r < Dd ? -1 : 0;
    return { kept: inc(cls, (k & 1n) === 1n, rm, neg) ? k + 1n : k, inexact: true };
  };
  let q = Math.max(E - (f.p - 1), f.emin - (f.p - 1));
  let { kept, inexact } = at(q);
  if (kept >= 1n << BigInt(f.emax + 1 - q)) {
    const toInf = rm === RNE || rm === RMM || (rm === RUP && !neg) || (rm === RDN && neg);
    return { bits: toInf ? infBits(f, neg) : maxBits(f, neg), flags: OF | NX };
  }
  let flags = inexact ? NX : 0;
  if (inexact && E < f.emin) {
    const qu = E - (f.p - 1);
    if (at(qu).kept < 1n << BigInt(f.emin - qu)) flags |= UF;
  }
  if (kept === 0n) return { bits: zeroBits(f, neg), flags };
  if (kept === 1n << BigInt(f.p)) { kept >>= 1n; q++; }
  const sign = neg ? 1n << BigInt(f.width - 1) : 0n;
  if (kept < 1n << BigInt(f.p - 1)) return { bits: sign | kept, flags }; // subnormal
  const ef = BigInt(q + (f.p - 1) + f.emax);
  return { bits: sign | (ef << BigInt(f.p - 1)) | (kept - (1n << BigInt(f.p - 1))), flags };
}

/** A signed exact dyadic value, or zero. */
interface Exact { neg: boolean; num: bigint; den: bigint }
const exactOf = (v: Val & { k: 'fin' }): Exact => v.exp >= 0
  ? { neg: v.neg, num: v.sig << BigInt(v.exp), den: 1n }
  : { neg: v.neg, num: v.sig, den: 1n << BigInt(-v.exp) };
function addExact(x: Exact, y: Exact): Exact {
  const den = x.den > y.den ? x.den : y.den;
  const a = (x.neg ? -x.num : x.num) * (den / x.den), b = (y.neg ? -y.num : y.num) * (den / y.den);
  const s = a + b;
  return { neg: s < 0n, num: s < 0n ? -s : s, den };
}
const mulExact = (x: Exact, y: Exact): Exact => ({ neg: x.neg !== y.neg, num: x.num * y.num, den: x.den * y.den });

function nanResult(f: Fmt, vals: Val[], invalid = false): Res {
  const sn = vals.some((v) => v.k === 'nan' && v.snan);
  return { bits: canon(f), flags: sn || invalid ? NV : 0 };
}

/** ±0 product/sum rules and rounding of exact results. */
function fromExact(x: Exact, f: Fmt, rm: number, zeroNeg: boolean): Res {
  if (x.num === 0n) return { bits: zeroBits(f, zeroNeg), flags: 0 };
  return round(x.neg, x.num, x.den, f, rm);
}

function refAdd(a: Val, b: Val, f: Fmt, rm: number): Res {
  if (a.k === 'nan' || b.k === 'nan') return nanResult(f, [a, b]);
  if (a.k === 'inf' && b.k === 'inf') return a.neg === b.neg ? { bits: infBits(f, a.neg), flags: 0 } : nanResult(f, [], true);
  if (a.k === 'inf') return { bits: infBits(f, a.neg), flags: 0 };
  if (b.k === 'inf') return { bits: infBits(f, b.neg), flags: 0 };
  if (a.k === 'zero' && b.k === 'zero') return { bits: zeroBits(f, a.neg === b.neg ? a.neg : rm === RDN), flags: 0 };
  if (a.k === 'zero') return round(b.k === 'fin' && b.neg, ...numDen(b), f, rm);
  if (b.k === 'zero') return round(a.neg, ...numDen(a), f, rm);
  return fromExact(addExact(exactOf(a), exactOf(b as Val & { k: 'fin' })), f, rm, rm === RDN);
}
function numDen(v: Val): [bigint, bigint] {
  const e = exactOf(v as Val & { k: 'fin' });
  return [e.num, e.den];
}
const negate = (v: Val): Val => (v.k === 'nan' ? v : { ...v, neg: !v.neg });

function refMul(a: Val, b: Val, f: Fmt, rm: number): Res {
  if (a.k === 'nan' || b.k === 'nan') return nanResult(f, [a, b]);
  const neg = (a as { neg: boolean }).neg !== (b as { neg: boolean }).neg;
  if ((a.k === 'inf' && b.k === 'zero') || (a.k === 'zero' && b.k === 'inf')) return nanResult(f, [], true);
  if (a.k === 'inf' || b.k === 'inf') return { bits: infBits(f, neg), flags: 0 };
  if (a.k === 'zero' || b.k === 'zero') return { bits: zeroBits(f, neg), flags: 0 };
  const x = mulExact(exactOf(a), exactOf(b));
  return round(x.neg, x.num, x.den, f, rm);
}

function refDiv(a: Val, b: Val, f: Fmt, rm: number): Res {
  if (a.k === 'nan' || b.k === 'nan') return nanResult(f, [a, b]);
  const neg = (a as { neg: boolean }).neg !== (b as { neg: boolean }).neg;
  if ((a.k === 'inf' && b.k === 'inf') || (a.k === 'zero' && b.k === 'zero')) return nanResult(f, [], true);
  if (a.k === 'inf' || b.k === 'zero') return { bits: infBits(f, neg), flags: a.k === 'inf' ? 0 : DZ };
  if (a.k === 'zero' || b.k === 'inf') return { bits: zeroBits(f, neg), flags: 0 };
  const x = exactOf(a), y = exactOf(b);
  return round(neg, x.num * y.den, x.den * y.num, f, rm);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitlen(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

function refSqrt(a: Val, f: Fmt, rm: number): Res {
  if (a.k === 'nan') return nanResult(f, [a]);
  if (a.k === 'zero') return { bits: zeroBits(f, a.neg), flags: 0 };
  if (a.neg) return nanResult(f, [], true);
  if (a.k === 'inf') return { bits: infBits(f, false), flags: 0 };
  // sqrt(sig · 2^exp) with exp made even, scaled by 2^(2K) so the root has > p + 2 bits; an
  // inexact root is replaced by root + 1/2, which rounds the same way.
  let sig = a.sig, exp = a.exp;
  if (exp % 2 !== 0) { sig <<= 1n; exp -= 1; }
  const K = 70;
  const m = sig << BigInt(2 * K);
  const r = isqrt(m);
  const half = exp / 2 - K; // value ≈ r · 2^half
  const num = r * r === m ? 2n * r : 2n * r + 1n;
  const e = half - 1;
  return e >= 0 ? round(false, num << BigInt(e), 1n, f, rm) : round(false, num, 1n << BigInt(-e), f, rm);
}

function refFma(a: Val, b: Val, c: Val, f: Fmt, rm: number): Res {
  const infZero = (a.k === 'inf' && b.k === 'zero') || (a.k === 'zero' && b.k === 'inf');
  if (a.k === 'nan' || b.k === 'nan' || c.k === 'nan') return nanResult(f, [a, b, c], infZero);
  if (infZero) return nanResult(f, [], true);
  const pneg = (a as { neg: boolean }).neg !== (b as { neg: boolean }).neg;
  if (a.k === 'inf' || b.k === 'inf') {
    if (c.k === 'inf' && c.neg !== pneg) return nanResult(f, [], true);
    return { bits: infBits(f, pneg), flags: 0 };
  }
  if (c.k === 'inf') return { bits: infBits(f, c.neg), flags: 0 };
  if (a.k === 'zero' || b.k === 'zero') {
    if (c.k === 'zero') return { bits: zeroBits(f, pneg === c.neg ? pneg : rm === RDN), flags: 0 };
    return round(c.neg, ...numDen(c), f, rm);
  }
  const p = mulExact(exactOf(a), exactOf(b as Val & { k: 'fin' }));
  if (c.k === 'zero') return round(p.neg, p.num, p.den, f, rm);
  return fromExact(addExact(p, exactOf(c)), f, rm, rm === RDN);
}

/** Float → int32/uint32 per the F chapter's conversion table. Returns the register value. */
function refToInt(a: Val, unsigned: boolean, rm: number): { r: number; flags: number } {
  const lo = unsigned ? 0n : -(1n << 31n), hi = unsigned ? (1n << 32n) - 1n : (1n << 31n) - 1n;
  const sat = (neg: boolean): number => Number(BigInt.asIntN(32, neg ? lo : hi));
  if (a.k === 'nan') return { r: sat(false), flags: NV };
  if (a.k === 'inf') return { r: sat(a.neg), flags: NV };
  if (a.k === 'zero') return { r: 0, flags: 0 };
  let k: bigint, inexact = false;
  if (a.exp >= 0) k = a.sig << BigInt(a.exp);
  else {
    const sh = BigInt(-a.exp);
    k = a.sig >> sh;
    const r = a.sig - (k << sh);
    if (r !== 0n) {
      inexact = true;
      const cls = 2n * r > 1n << sh ? 1 : 2n * r < 1n << sh ? -1 : 0;
      if (inc(cls, (k & 1n) === 1n, rm, a.neg)) k += 1n;
    }
  }
  const v = a.neg ? -k : k;
  if (v < lo || v > hi) return { r: sat(a.neg), flags: NV };
  return { r: Number(BigInt.asIntN(32, v)), flags: inexact ? NX : 0 };
}

// ---- the machine side ------------------------------------------------------------------------

class Host implements FpuHost {
  readonly fr = new Int32Array(64);
  readonly frD = new Float64Array(this.fr.buffer);
  readonly x = new Int32Array(32);
  fflags = 0;
  frm = 0;
  fpuEnabled(): boolean { return true; }
  markFpDirty(): void {}
  load32(): number { throw new Error('no memory'); }
  load64(): void { throw new Error('no memory'); }
  store32(): void { throw new Error('no memory'); }
  store64(): void { throw new Error('no memory'); }
  illegal(inst: number): never { throw new Error(`illegal 0x${(inst >>> 0).toString(16)}`); }
}
const host = new Host();

function put(r: number, bits: bigint, f: Fmt): void {
  host.fr[2 * r] = Number(bits & 0xffffffffn) | 0;
  host.fr[2 * r + 1] = f.width === 32 ? -1 : Number(bits >> 32n) | 0;
}
function get(r: number, f: Fmt): bigint {
  const lo = BigInt(host.fr[2 * r] >>> 0);
  if (f.width === 32) {
    assert.equal(host.fr[2 * r + 1], -1, 'binary32 results are NaN-boxed');
    return lo;
  }
  return (BigInt(host.fr[2 * r + 1] >>> 0) << 32n) | lo;
}

// ---- operand generator -----------------------------------------------------------------------

/** mulberry32: a small seeded PRNG so that any failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gen(rand: () => number, f: Fmt): () => bigint {
  const fb = f.p - 1;
  const int = (n: number): number => Math.floor(rand() * n);
  const bits = (n: number): bigint => {
    let r = 0n;
    for (let i = 0; i < n; i += 16) r = (r << 16n) | BigInt(int(65536));
    return r & ((1n << BigInt(n)) - 1n);
  };
  const make = (neg: boolean, ef: number, frac: bigint): bigint =>
    (neg ? 1n << BigInt(f.width - 1) : 0n) | (BigInt(ef) << BigInt(fb)) | (frac & ((1n << BigInt(fb)) - 1n));
  const maxE = 2 * f.emax;
  const specials = [0n, infBits(f, false), canon(f), canon(f) | 1n, infBits(f, false) | 1n, maxBits(f, false), 1n,
    1n << BigInt(fb), (1n << BigInt(fb)) - 1n, make(false, f.emax, 0n), make(false, f.emax, (1n << BigInt(fb)) - 1n)];
  return () => {
    const neg = rand() < 0.5;
    const c = rand();
    if (c < 0.08) return specials[int(specials.length)] | (neg ? 1n << BigInt(f.width - 1) : 0n);
    if (c < 0.25) return bits(f.width);
    if (c < 0.55) return make(neg, f.emax - 20 + int(40), bits(fb)); // around 1
    if (c < 0.75) { // sparse significands: exact results and halfway cases
      let fr = 0n;
      for (let i = int(4); i > 0; i--) fr |= 1n << BigInt(int(fb));
      if (rand() < 0.5) fr |= 1n; // low bit set: products and sums land on midpoints
      return make(neg, f.emax - 30 + int(60), fr);
    }
    if (c < 0.88) return make(neg, int(f.p + 3), bits(fb)); // subnormal and near-underflow
    return make(neg, maxE - int(f.p + 3), bits(fb)); // near overflow
  };
}

function asVal(bits: bigint, f: Fmt): Val { return decode(bits, f); }
function asFloat(bits: bigint, f: Fmt): number {
  const dv = new DataView(new ArrayBuffer(8));
  if (f.width === 32) { dv.setUint32(0, Number(bits)); return dv.getFloat32(0); }
  dv.setBigUint64(0, bits);
  return dv.getFloat64(0);
}

// ---- the tests -------------------------------------------------------------------------------

// Cases per operation, format and rounding mode, and a seed offset; override for a longer soak:
// FPU_EXACT_CASES=100000 FPU_EXACT_SEED=7 node --import tsx --test src/machine/fpu-exact.test.ts
const N = Number(process.env.FPU_EXACT_CASES ?? 1500);
const SEED = Number(process.env.FPU_EXACT_SEED ?? 0);

interface Failure { what: string; ops: string[]; want: string; got: string }

function report(fails: Failure[], total: number): void {
  assert.equal(fails.length, 0, `${fails.length}/${total} mismatches; first: ${JSON.stringify(fails.slice(0, 5), null, 1)}`);
}
const h16 = (b: bigint): string => `0x${b.toString(16)}`;

type Kind = 'add' | 'sub' | 'mul' | 'div' | 'sqrt' | 'fmadd' | 'fmsub' | 'fnmsub' | 'fnmadd';
const ENC: Record<Kind, [(...a: number[]) => number, (...a: number[]) => number, number]> = {
  add: [E.fadd_s, E.fadd_d, 2], sub: [E.fsub_s, E.fsub_d, 2], mul: [E.fmul_s, E.fmul_d, 2], div: [E.fdiv_s, E.fdiv_d, 2],
  sqrt: [E.fsqrt_s, E.fsqrt_d, 1], fmadd: [E.fmadd_s, E.fmadd_d, 3], fmsub: [E.fmsub_s, E.fmsub_d, 3],
  fnmsub: [E.fnmsub_s, E.fnmsub_d, 3], fnmadd: [E.fnmadd_s, E.fnmadd_d, 3],
};

function reference(kind: Kind, v: Val[], f: Fmt, rm: number): Res {
  switch (kind) {
    case 'add': return refAdd(v[0], v[1], f, rm);
    case 'sub': return refAdd(v[0], negate(v[1]), f, rm);
    case 'mul': return refMul(v[0], v[1], f, rm);
    case 'div': return refDiv(v[0], v[1], f, rm);
    case 'sqrt': return refSqrt(v[0], f, rm);
    case 'fmadd': return refFma(v[0], v[1], v[2], f, rm);
    case 'fmsub': return refFma(v[0], v[1], negate(v[2]), f, rm);
    case 'fnmsub': return refFma(negate(v[0]), v[1], v[2], f, rm);
    case 'fnmadd': return refFma(negate(v[0]), v[1], negate(v[2]), f, rm);
  }
}

/** Operands for `kind`, with correlated cases: near-equal operands for add/sub (cancellation),
 * and addends close to −a·b for the fused forms. */
function operands(kind: Kind, f: Fmt, rand: () => number, g: () => bigint): bigint[] {
  const n = ENC[kind][2];
  const ops = Array.from({ length: n }, g);
  const r = rand();
  if ((kind === 'add' || kind === 'sub') && r < 0.3) {
    // b = ±a nudged by a few ulps, or a scaled by a small power of two.
    const d = BigInt(Math.floor(rand() * 9) - 4);
    ops[1] = (ops[0] + d) & ((1n << BigInt(f.width)) - 1n);
    if (rand() < 0.5) ops[1] ^= 1n << BigInt(f.width - 1);
  } else if ((kind === 'add' || kind === 'sub') && r < 0.4) {
    // Two addends in the top binade with the same effective sign: overflow thresholds.
    const fb = BigInt(f.p - 1), sign = 1n << BigInt(f.width - 1), frac = (1n << fb) - 1n;
    const top = BigInt(2 * f.emax) << fb;
    ops[0] = (ops[0] & (sign | frac)) | top;
    ops[1] = (ops[1] & frac) | top | (((ops[0] & sign) !== 0n) !== (kind === 'sub') ? sign : 0n);
  } else if (n === 3 && r < 0.35) {
    // c ≈ ∓a·b: massive cancellation in the fused sum.
    const x = asFloat(ops[0], f) * asFloat(ops[1], f);
    const dv = new DataView(new ArrayBuffer(8));
    if (f.width === 32) dv.setFloat32(0, x);
    else dv.setFloat64(0, x);
    let c = f.width === 32 ? BigInt(dv.getUint32(0)) : dv.getBigUint64(0);
    c = (c + BigInt(Math.floor(rand() * 5) - 2)) & ((1n << BigInt(f.width)) - 1n);
    const negC = kind === 'fmadd' || kind === 'fnmadd';
    ops[2] = negC ? c ^ (1n << BigInt(f.width - 1)) : c;
  }
  return ops;
}

describe('fpu arithmetic matches the exact reference', () => {
  const kinds: Kind[] = ['add', 'sub', 'mul', 'div', 'sqrt', 'fmadd', 'fmsub', 'fnmsub', 'fnmadd'];
  for (const f of [S, D]) {
    for (const kind of kinds) {
      it(`${kind}.${f.width === 32 ? 's' : 'd'}, all rounding modes`, () => {
        const rand = rng(0x5eed ^ (f.width * 131) ^ kinds.indexOf(kind) * 7919 ^ SEED * 0x9e3779b1);
        const g = gen(rand, f);
        const fails: Failure[] = [];
        let total = 0;
        const seen = new Map<number, number>(); // reference flags → count
        const [encS, encD, n] = ENC[kind];
        const enc = f.width === 32 ? encS : encD;
        for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
          for (let i = 0; i < N; i++) {
            const ops = operands(kind, f, rand, g);
            ops.forEach((b, j) => put(j + 1, b, f));
            const dyn = i % 4 === 0; // a quarter through frm
            host.frm = dyn ? rm : RNE;
            const regs = [10, 1, 2, 3].slice(0, n + 1);
            const inst = enc(...regs, dyn ? 7 : rm);
            host.fflags = 0;
            execFp(host, inst);
            const got = { bits: get(10, f), flags: host.fflags };
            const want = reference(kind, ops.map((b) => asVal(b, f)), f, rm);
            total++;
            seen.set(want.flags, (seen.get(want.flags) ?? 0) + 1);
            if (got.bits !== want.bits || got.flags !== want.flags) {
              fails.push({ what: `${kind} rm ${rm}`, ops: ops.map(h16), want: `${h16(want.bits)} fl ${want.flags}`, got: `${h16(got.bits)} fl ${got.flags}` });
            }
          }
        }
        report(fails, total);
        // The generator must reach the interesting cases, or this test would prove little.
        // (Sums never underflow inexactly; √ neither overflows nor underflows.)
        const hit = (fl: number): number => [...seen].filter(([k]) => (k & fl) === fl).reduce((t, [, c]) => t + c, 0);
        assert.ok((seen.get(0) ?? 0) > N / 20, 'exact results');
        assert.ok(hit(NX) > N, 'inexact results');
        assert.ok(hit(NV) > 0, 'invalid operations');
        if (kind !== 'sqrt') assert.ok(hit(OF) > N / 50, 'overflows');
        if (kind !== 'sqrt' && kind !== 'add' && kind !== 'sub') assert.ok(hit(UF) > N / 50, 'underflows');
      });
    }
  }

  it('fcvt.s.d and fcvt.d.s, all rounding modes', () => {
    const rand = rng(0xc0de);
    const g = gen(rand, D);
    const fails: Failure[] = [];
    let total = 0;
    for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
      for (let i = 0; i < 4 * N; i++) {
        let x = g();
        // Bias toward the binary32 range and its edges.
        if (rand() < 0.6) x = (x & 0x800fffffffffffffn) | (BigInt(1023 - 155 + Math.floor(rand() * 290)) << 52n);
        put(1, x, D);
        host.fflags = 0;
        execFp(host, E.fcvt_s_d(10, 1, rm));
        const v = asVal(x, D);
        const want: Res = v.k === 'nan' ? nanResult(S, [v]) : v.k === 'inf' ? { bits: infBits(S, v.neg), flags: 0 }
          : v.k === 'zero' ? { bits: zeroBits(S, v.neg), flags: 0 } : round(v.neg, ...numDen(v), S, rm);
        total++;
        const got = get(10, S);
        if (got !== want.bits || host.fflags !== want.flags) {
          fails.push({ what: `fcvt.s.d rm ${rm}`, ops: [h16(x)], want: `${h16(want.bits)} fl ${want.flags}`, got: `${h16(got)} fl ${host.fflags}` });
        }
      }
    }
    // fcvt.d.s is exact: widen and compare values (NaN → canonical, sNaN → NV).
    const gs = gen(rand, S);
    for (let i = 0; i < 4 * N; i++) {
      const x = gs();
      put(1, x, S);
      host.fflags = 0;
      execFp(host, E.fcvt_d_s(10, 1, RNE));
      const v = asVal(x, S);
      const want = v.k === 'nan' ? nanResult(D, [v]) : v.k === 'inf' ? { bits: infBits(D, v.neg), flags: 0 }
        : v.k === 'zero' ? { bits: zeroBits(D, v.neg), flags: 0 } : round(v.neg, ...numDen(v), D, RNE);
      total++;
      const got = get(10, D);
      if (got !== want.bits || host.fflags !== want.flags) {
        fails.push({ what: 'fcvt.d.s', ops: [h16(x)], want: `${h16(want.bits)} fl ${want.flags}`, got: `${h16(got)} fl ${host.fflags}` });
      }
    }
    report(fails, total);
  });

  it('fcvt.w/wu from .s and .d, and fcvt.s/d from w/wu, all rounding modes', () => {
    const rand = rng(0xfeed);
    const fails: Failure[] = [];
    let total = 0;
    for (const f of [S, D]) {
      const g = gen(rand, f);
      for (const rm of [RNE, RTZ, RDN, RUP, RMM]) {
        for (let i = 0; i < 2 * N; i++) {
          let x = g();
          // Bias toward integer-sized magnitudes (2^-2 .. 2^33), halves included.
          if (rand() < 0.7) {
            const fb = BigInt(f.p - 1);
            x = (x & ((1n << BigInt(f.width - 1)) | ((1n << fb) - 1n))) | (BigInt(f.emax - 2 + Math.floor(rand() * 36)) << fb);
            if (rand() < 0.4) x &= ~((1n << (fb - BigInt(Math.floor(rand() * 12)))) - 1n); // few fraction bits: ties
          }
          put(1, x, f);
          for (const unsigned of [false, true]) {
            host.fflags = 0;
            host.x[10] = 0x5a5a5a5a;
            const inst = f.width === 32 ? (unsigned ? E.fcvt_wu_s : E.fcvt_w_s)(10, 1, rm) : (unsigned ? E.fcvt_wu_d : E.fcvt_w_d)(10, 1, rm);
            execFp(host, inst);
            const want = refToInt(asVal(x, f), unsigned, rm);
            total++;
            if (host.x[10] !== want.r || host.fflags !== want.flags) {
              fails.push({ what: `fcvt.w${unsigned ? 'u' : ''}.${f.width === 32 ? 's' : 'd'} rm ${rm}`, ops: [h16(x)], want: `${want.r} fl ${want.flags}`, got: `${host.x[10]} fl ${host.fflags}` });
            }
          }
        }
        for (let i = 0; i < N; i++) {
          // Integers with random bit lengths, so that 24-bit rounding and its ties are exercised.
          const v = Math.floor(rand() * 2 ** 32) >>> (Math.floor(rand() * 32));
          const w = rand() < 0.5 ? v | 0 : v;
          host.x[5] = w | 0;
          for (const unsigned of [false, true]) {
            host.fflags = 0;
            const inst = f.width === 32 ? (unsigned ? E.fcvt_s_wu : E.fcvt_s_w)(10, 5, rm) : (unsigned ? E.fcvt_d_wu : E.fcvt_d_w)(10, 5, rm);
            execFp(host, inst);
            const n = unsigned ? BigInt(w >>> 0) : BigInt(w | 0);
            const want = n === 0n ? { bits: 0n, flags: 0 } : round(n < 0n, n < 0n ? -n : n, 1n, f, rm);
            total++;
            const got = get(10, f);
            if (got !== want.bits || host.fflags !== want.flags) {
              fails.push({ what: `fcvt.${f.width === 32 ? 's' : 'd'}.w${unsigned ? 'u' : ''} rm ${rm}`, ops: [String(n)], want: `${h16(want.bits)} fl ${want.flags}`, got: `${h16(got)} fl ${host.fflags}` });
            }
          }
        }
      }
    }
    report(fails, total);
  });

  it('the reference itself agrees with JavaScript on round-to-nearest binary64 arithmetic', () => {
    // Guards the guard: if the reference were wrong, the comparisons above could pass by accident
    // only if the implementation were wrong the same way; here it is checked independently.
    const rand = rng(42);
    const g = gen(rand, D);
    for (let i = 0; i < 3000; i++) {
      const a = g(), b = g();
      const x = asFloat(a, D), y = asFloat(b, D);
      for (const [r, js] of [[refAdd(asVal(a, D), asVal(b, D), D, RNE), x + y], [refMul(asVal(a, D), asVal(b, D), D, RNE), x * y],
        [refDiv(asVal(a, D), asVal(b, D), D, RNE), x / y], [refSqrt(asVal(a, D), D, RNE), Math.sqrt(x)]] as [Res, number][]) {
        if (js !== js) assert.equal(r.bits, canon(D));
        else assert.equal(asFloat(r.bits, D), js, `${h16(a)} ${h16(b)}`);
        if (js === 0) assert.equal(Object.is(asFloat(r.bits, D), -0), Object.is(js, -0));
      }
    }
  });
});
