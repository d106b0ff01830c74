// Conversions and classification of the F and D extensions: fcvt between floating-point and
// 32-bit integers in all rounding modes, and fclass.
//
// Float → integer follows the F chapter's table "Domains of float-to-integer conversions and
// behavior for invalid inputs": a value whose rounded result is out of range, ±∞ or NaN raises
// NV and gives the saturated value (fcvt.w: NaN and +big → 2^31−1, −big → −2^31; fcvt.wu: NaN
// and +big → 2^32−1, negative → 0). NX is raised when the result differs from the operand and
// NV is not ("All floating-point conversion instructions set the Inexact exception flag if the
// rounded result differs from the operand value and the Invalid exception flag is not set"). So
// fcvt.wu of −0.9 in RTZ is 0 with NX only, while in RNE it rounds to −1 and is invalid.

import { NV, NX, RDN, RMM, RTZ, RUP, acc, roundF32 } from './fpu-round.ts';

let rintInexact = false;

/** x (finite) rounded to an integer in mode rm; sets rintInexact. The fraction x − trunc(x)
 * is exact: a non-integral binary64 number is below 2^52 in magnitude. */
function rint(x: number, rm: number): number {
  const t = Math.trunc(x);
  rintInexact = t !== x;
  if (!rintInexact) return x;
  const f = x - t;
  switch (rm) {
    case RTZ: return t;
    case RDN: return f < 0 ? t - 1 : t;
    case RUP: return f > 0 ? t + 1 : t;
    case RMM: return Math.abs(f) >= 0.5 ? t + (f > 0 ? 1 : -1) : t;
    default: {
      const af = Math.abs(f);
      return af > 0.5 || (af === 0.5 && t % 2 !== 0) ? t + (f > 0 ? 1 : -1) : t;
    }
  }
}

/** fcvt.w.s / fcvt.w.d: x to a signed 32-bit integer. */
export function cvtToW(x: number, rm: number): number {
  if (x !== x) { acc.flags |= NV; return 0x7fffffff; }
  const r = x - x === 0 ? rint(x, rm) : x;
  if (!(r >= -2147483648 && r <= 2147483647)) {
    acc.flags |= NV;
    return x < 0 ? -2147483648 : 0x7fffffff;
  }
  if (rintInexact) acc.flags |= NX;
  return r | 0;
}

/** fcvt.wu.s / fcvt.wu.d: x to an unsigned 32-bit integer, returned as its int32 bit pattern. */
export function cvtToWU(x: number, rm: number): number {
  if (x !== x) { acc.flags |= NV; return -1; }
  const r = x - x === 0 ? rint(x, rm) : x;
  if (!(r >= 0 && r <= 4294967295)) { // −0 is in range
    acc.flags |= NV;
    return x < 0 ? 0 : -1;
  }
  if (rintInexact) acc.flags |= NX;
  return r | 0;
}

/** fcvt.s.w / fcvt.s.wu: the integer v (exact as a number) rounded to binary32. Zero is +0. */
export function intToS(v: number, rm: number): number {
  return Math.fround(v) === v ? v : roundF32(v, 0, rm);
}

/** fclass.s of the binary32 bit pattern `bits` (an unboxed operand is passed as the canonical
 * NaN). One-hot result, F chapter "Format of result of FCLASS instruction". */
export function classS(bits: number): number {
  const neg = bits < 0;
  const exp = (bits >>> 23) & 0xff;
  const frac = bits & 0x7fffff;
  if (exp === 0xff) return frac === 0 ? (neg ? 1 << 0 : 1 << 7) : (frac & 0x400000) !== 0 ? 1 << 9 : 1 << 8;
  if (exp === 0) return frac === 0 ? (neg ? 1 << 3 : 1 << 4) : neg ? 1 << 2 : 1 << 5;
  return neg ? 1 << 1 : 1 << 6;
}

/** fclass.d of the binary64 with high word `hi` and low word `lo`. */
export function classD(hi: number, lo: number): number {
  const neg = hi < 0;
  const exp = (hi >>> 20) & 0x7ff;
  const fracZero = ((hi & 0xfffff) | lo) === 0;
  if (exp === 0x7ff) return fracZero ? (neg ? 1 << 0 : 1 << 7) : (hi & 0x80000) !== 0 ? 1 << 9 : 1 << 8;
  if (exp === 0) return fracZero ? (neg ? 1 << 3 : 1 << 4) : neg ? 1 << 2 : 1 << 5;
  return neg ? 1 << 1 : 1 << 6;
}
