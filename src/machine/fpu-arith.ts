// Arithmetic kernels of the F and D extensions: add, multiply, divide, square root and fused
// multiply-add, in binary32 (F chapter, "Single-Precision Floating-Point Computational
// Instructions") and binary64 (D chapter, "Double-Precision Floating-Point Computational
// Instructions"), in all five rounding modes.
//
// Contract of every kernel: operands are JavaScript numbers holding the register values
// (binary32 operands widened exactly); the result is the correctly rounded value as a number
// (binary32 results are exactly representable in binary32). A NaN result is returned as NaN and
// the caller stores the canonical NaN; the caller also raises NV for a NaN result when an
// operand is a signaling NaN or when no operand is a NaN (an invalid operation: ∞ − ∞, 0 · ∞,
// 0/0, ∞/∞, √negative). The kernels raise DZ, OF, UF and NX themselves, and NV for ∞ · 0 in a
// fused multiply-add whose addend is a quiet NaN (F chapter: "must set the invalid operation
// exception flag when the multiplicands are ∞ and zero, even when the addend is a quiet NaN").
//
// Binary64 fast paths use error-free transformations and are valid while every error term is
// exact: for ×, ÷ and fused multiply-add, operands and results between 2^-960 and 2^990 in
// magnitude (normal operands for products); addition needs no limit and square root rescales
// its operand. Anything else takes the exact BigInt path in fpu-round.ts. Binary32 operations
// are computed in binary64 with the sign of the binary64 error, then rounded by `finishS` /
// `roundF32`.
//
// Assumes JavaScript's + − × ÷ and Math.sqrt are correctly rounded to nearest-even binary64
// (ECMAScript specifies IEEE 754 arithmetic for the operators; Math.sqrt compiles to the
// hardware square root in V8). The differential tests check this against exact BigInt results.

import {
  DZ, NV, NX, RDN, RMM, RNE,
  acc, isTieD, nearOrAway, overflowD, pow2, prodErr, roundDirD, roundF32, slowDivD, slowFmaD, stepMag, F64, I32,
} from './fpu-round.ts';

const LO = pow2(-960);
const HI = pow2(990);
const MIN_NORMAL = pow2(-1022);

/** Sign of an exact zero sum x + y in RDN: −0 unless both operands are +0 (IEEE 754-2019 §6.3). */
function zeroSumRdn(x: number, y: number): number {
  return x === 0 && y === 0 && 1 / x > 0 && 1 / y > 0 ? 0 : -0;
}

// ---- binary64 ----------------------------------------------------------------------------

/** a + b in binary64 (fadd.d; fsub.d passes −b). */
export function addD(a: number, b: number, rm: number): number {
  const s = a + b;
  if (s - s !== 0) {
    if (s !== s || a - a !== 0 || b - b !== 0) return s; // NaN, or an infinite operand: exact
    // RN overflowed: exact ≥ max + ulp/2. Toward zero, below 2^1024 it rounds to max instead.
    return nearOrAway(rm, s < 0) ? overflowD(s < 0, rm) : slowFmaD(a, 1, b, rm);
  }
  // TwoSum (Knuth): e = a + b − s exactly; exact for all finite inputs, subnormals included.
  const bb = s - a;
  const e = (a - (s - bb)) + (b - bb);
  if (e === 0) return s === 0 && rm === RDN ? zeroSumRdn(a, b) : s;
  if (e !== e) return slowFmaD(a, 1, b, rm); // an intermediate overflowed (not reachable in practice)
  if (rm === RNE) { acc.flags |= NX; return s; }
  return roundDirD(s, e, rm === RMM && isTieD(s, e), rm);
}

/** a · b in binary64 (fmul.d). */
export function mulD(a: number, b: number, rm: number): number {
  const p = a * b;
  if (p - p !== 0) {
    if (p !== p || a - a !== 0 || b - b !== 0) return p;
    return nearOrAway(rm, p < 0) ? overflowD(p < 0, rm) : slowFmaD(a, b, 0, rm);
  }
  if (p === 0) return a === 0 || b === 0 ? p : slowFmaD(a, b, 0, rm); // else underflowed to 0
  const ap = Math.abs(p), aa = Math.abs(a), ab = Math.abs(b);
  if (ap < LO || ap > HI || aa < MIN_NORMAL || ab < MIN_NORMAL || aa > HI || ab > HI) return slowFmaD(a, b, 0, rm);
  const e = prodErr(a, b, p);
  if (e === 0) return p;
  if (rm === RNE) { acc.flags |= NX; return p; }
  return roundDirD(p, e, rm === RMM && isTieD(p, e), rm);
}

/** a / b in binary64 (fdiv.d). Never a tie: a midpoint needs 54 significant bits, and
 * midpoint · b would then need more than 53. */
export function divD(a: number, b: number, rm: number): number {
  const q = a / b;
  if (b === 0) {
    if (a - a === 0 && a !== 0) acc.flags |= DZ; // finite non-zero / 0 = ±∞; 0/0 and NaN give NaN
    return q;
  }
  if (q - q !== 0) {
    if (q !== q || a - a !== 0 || b - b !== 0) return q;
    return nearOrAway(rm, q < 0) ? overflowD(q < 0, rm) : slowDivD(a, b, rm);
  }
  if (a === 0 || b - b !== 0) return q; // 0 / x and x / ∞ are exact zeros
  if (q === 0) return slowDivD(a, b, rm); // underflowed to 0
  const aq = Math.abs(q), aa = Math.abs(a), ab = Math.abs(b);
  // ph ≈ a, and the split partial products of q·b must not overflow either: |a| ≤ 2^990.
  if (aq < LO || aq > HI || aa < LO || aa > HI || ab < MIN_NORMAL || ab > HI) return slowDivD(a, b, rm);
  // Residual a − q·b, exact: TwoProduct, then a − ph is exact by Sterbenz's lemma.
  const ph = q * b;
  const rem = (a - ph) - prodErr(q, b, ph);
  if (rem === 0) return q;
  if (rm === RNE) { acc.flags |= NX; return q; }
  return roundDirD(q, (rem > 0) === (b > 0) ? 1 : -1, false, rm);
}

/** √a in binary64 (fsqrt.d). Never overflows, underflows or ties. */
export function sqrtD(a: number, rm: number): number {
  if (!(a > 0) || a - a !== 0) return Math.sqrt(a); // ±0, +∞ exact; negative and NaN give NaN
  // Scale by an even power of two so that r·r neither underflows nor overflows in TwoProduct;
  // √ halves the exponent, and rescaling the (normal) result is exact.
  let x = a, scale = 1;
  if (a < LO) { x = a * pow2(108); scale = pow2(-54); }
  else if (a > HI) { x = a * pow2(-108); scale = pow2(54); }
  const r = Math.sqrt(x);
  const ph = r * r;
  const rem = (x - ph) - prodErr(r, r, ph);
  if (rem === 0) return r * scale;
  if (rm === RNE) { acc.flags |= NX; return r * scale; }
  return roundDirD(r, rem, false, rm) * scale;
}

/** a · b + c in binary64 with a single rounding (fmadd.d; the caller negates a and/or c for
 * fmsub.d, fnmsub.d, fnmadd.d). */
export function fmaD(a: number, b: number, c: number, rm: number): number {
  const p = a * b;
  if (p - p !== 0 || c - c !== 0) return fmaSpecialD(a, b, c, p, rm);
  if (p === 0) {
    if (a === 0 || b === 0) {
      const s = p + c; // exact: a zero product plus c
      return s === 0 && rm === RDN ? zeroSumRdn(p, c) : s;
    }
    return slowFmaD(a, b, c, rm); // the product underflowed in binary64
  }
  if (c === 0) return mulD(a, b, rm);
  const ap = Math.abs(p), aa = Math.abs(a), ab = Math.abs(b);
  if (ap < LO || ap > HI || aa < MIN_NORMAL || ab < MIN_NORMAL || aa > HI || ab > HI || Math.abs(c) > HI) {
    return slowFmaD(a, b, c, rm);
  }
  // Boldo–Melquiond emulated FMA: p + pl = a·b and th + tl = c + p exactly; v = RO(tl + pl)
  // (round to odd); RN(th + v) = RN(a·b + c).
  const pl = prodErr(a, b, p);
  const th = c + p;
  const t1 = th - c;
  const tl = (c - (th - t1)) + (p - t1);
  const u = tl + pl;
  const u1 = u - tl;
  const ue = (tl - (u - u1)) + (pl - u1);
  let v = u;
  let sD = 0; // sign of (tl + pl) − v
  if (ue !== 0) {
    F64[0] = u;
    if ((I32[0] & 1) === 0) {
      v = stepMag(u, (ue > 0) === (u > 0) ? 1 : -1); // u even: move to the odd neighbour toward tl + pl
      sD = u > v ? 1 : -1;
    } else sD = ue > 0 ? 1 : -1;
  }
  const r = th + v;
  // exact − r = e1 + δ with δ = (tl + pl) − v; when e1 ≠ 0 it is a multiple of ulp(v) > |δ|.
  const r1 = r - th;
  const e1 = (th - (r - r1)) + (v - r1);
  if (Math.abs(r) < LO) {
    if (r === 0 && e1 === 0 && sD === 0) return rm === RDN ? -0 : 0; // exact cancellation
    return slowFmaD(a, b, c, rm); // tiny result: exact path for subnormal rounding and UF
  }
  const sE = e1 > 0 ? 1 : e1 < 0 ? -1 : sD;
  if (sE === 0) return r;
  if (rm === RNE) { acc.flags |= NX; return r; }
  // A midpoint is a multiple of ulp(v), which exact is not when δ ≠ 0.
  return roundDirD(r, sE, rm === RMM && sD === 0 && isTieD(r, e1), rm);
}

/** fmaD when the product or the addend is ∞ or NaN, or the product overflowed binary64. */
function fmaSpecialD(a: number, b: number, c: number, p: number, rm: number): number {
  if (p !== p) {
    if (a === a && b === b) acc.flags |= NV; // ∞ · 0, whatever c is
    return NaN;
  }
  if (c !== c) return NaN;
  if (a - a !== 0 || b - b !== 0) return p + c; // ±∞, or NaN for ∞ − ∞
  if (c - c !== 0) return c; // finite product + ∞
  return slowFmaD(a, b, c, rm); // finite operands, product beyond binary64: exact path
}

// ---- binary32 ----------------------------------------------------------------------------

/** Sign of an exact error term, as roundF32 wants it. */
function sgn(e: number): number {
  return e > 0 ? 1 : e < 0 ? -1 : 0;
}

const MIN_NORMAL_S = pow2(-126);

/**
 * Finish a binary32 +, −, ×, ÷ or √ whose binary64 result is d = RN64(exact) with exact − d of
 * sign sE (or, for ÷ and √, the sign of the residual). In RNE, Math.fround(d) is already the
 * correctly rounded binary32 result: double rounding is innocuous for these operations because
 * 53 ≥ 2·24 + 2 (Figueroa, "When is double rounding innocuous?", 1995). Results that are normal
 * and finite need only NX; the rest (directed modes, overflow, tininess) go to roundF32.
 */
function finishS(d: number, sE: number, rm: number): number {
  if (rm === RNE) {
    const f = Math.fround(d);
    if (f > MIN_NORMAL_S ? f - f === 0 : f < -MIN_NORMAL_S && f - f === 0) {
      if (f !== d || sE !== 0) acc.flags |= NX;
      return f;
    }
  }
  return roundF32(d, sE, rm);
}

/** a + b in binary32 (fadd.s; fsub.s passes −b). */
export function addS(a: number, b: number, rm: number): number {
  const s = a + b;
  if (s - s !== 0) return s; // NaN or an infinite operand (binary32 sums cannot overflow binary64)
  if (s === 0) return rm === RDN ? zeroSumRdn(a, b) : s; // binary64 zero sums are exact
  const bb = s - a;
  const e = (a - (s - bb)) + (b - bb);
  if (e === 0 && Math.fround(s) === s) return s;
  return finishS(s, sgn(e), rm);
}

/** a · b in binary32 (fmul.s). The binary64 product of two binary32 numbers is exact. */
export function mulS(a: number, b: number, rm: number): number {
  const p = a * b;
  if (p - p !== 0 || p === 0 || Math.fround(p) === p) return p;
  return finishS(p, 0, rm);
}

/** a / b in binary32 (fdiv.s). */
export function divS(a: number, b: number, rm: number): number {
  const q = a / b;
  if (b === 0) {
    if (a - a === 0 && a !== 0) acc.flags |= DZ;
    return q;
  }
  if (q - q !== 0 || q === 0) return q; // NaN, ∞ operand, 0 / x, x / ∞
  const ph = q * b;
  const rem = (a - ph) - prodErr(q, b, ph);
  if (rem === 0 && Math.fround(q) === q) return q;
  return finishS(q, rem === 0 ? 0 : (rem > 0) === (b > 0) ? 1 : -1, rm);
}

/** √a in binary32 (fsqrt.s). */
export function sqrtS(a: number, rm: number): number {
  if (!(a > 0) || a - a !== 0) return Math.sqrt(a);
  const r = Math.sqrt(a);
  const ph = r * r;
  const rem = (a - ph) - prodErr(r, r, ph);
  if (rem === 0 && Math.fround(r) === r) return r;
  return finishS(r, sgn(rem), rm);
}

/** a · b + c in binary32 with a single rounding (fmadd.s family). The product is exact in
 * binary64 and TwoSum gives the exact error of the binary64 sum. Not through finishS: double
 * rounding of a three-operand sum is not innocuous. */
export function fmaS(a: number, b: number, c: number, rm: number): number {
  const p = a * b;
  const s = p + c;
  if (s !== s) {
    if (p !== p && a === a && b === b) acc.flags |= NV; // ∞ · 0, whatever c is
    return NaN;
  }
  if (s - s !== 0) return s;
  if (s === 0) return rm === RDN ? zeroSumRdn(p, c) : s;
  const t = s - p;
  const e = (p - (s - t)) + (c - t);
  if (e === 0 && Math.fround(s) === s) return s;
  return roundF32(s, sgn(e), rm);
}
