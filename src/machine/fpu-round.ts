// Rounding core of the F and D extensions: the five rounding modes, the exception flags, and
// the exact slow path.
//
// JavaScript arithmetic is IEEE 754 binary64 with round-to-nearest-even only. Every operation
// here starts from the JavaScript result r = RN(exact) plus the sign of the exact error
// (exact − r), obtained with error-free transformations (TwoSum, Dekker's TwoProduct, residuals
// for ÷ and √). From r and that sign, the result in any mode is r or its neighbour one ulp away
// (IEEE 754-2019 §4.3; RISC-V unprivileged spec, chapter "F" Standard Extension, "Floating-Point
// Control and Status Register", table of rounding modes).
//
// - binary32 results: the exact value lies strictly between r and its binary64 neighbour on the
//   side given by the sign, and every binary32 rounding boundary (grid point or midpoint) is a
//   binary64 number, so r and the sign decide the binary32 rounding exactly (`roundF32`).
// - binary64 results: `roundDirD` steps r by one ulp when the mode requires. Error terms are only
//   exact away from the overflow and underflow thresholds; callers take `roundBigD`, an exact
//   BigInt path, for operands or results outside that range. It is rare in practice.
//
// Flags follow IEEE 754 with tininess detected after rounding (F chapter, "Subnormal
// Arithmetic": "tininess is detected after rounding"): UF is raised when the result is tiny AND
// inexact; OF when the result rounded with an unbounded exponent exceeds the largest finite
// number (the result is then ±∞ or ±max-finite depending on the mode), always with NX.

/** fcsr.fflags bits (F chapter, "Accrued exception flag encoding"). */
export const NV = 0x10, DZ = 0x08, OF = 0x04, UF = 0x02, NX = 0x01;
/** Rounding-mode encodings (F chapter, "Rounding mode encoding"). */
export const RNE = 0, RTZ = 1, RDN = 2, RUP = 3, RMM = 4;

/** Flags raised by the instruction being executed. `execFp` clears it first, then ORs it into
 * fcsr.fflags. A shared object so the kernels in several modules can accumulate into it. */
export const acc = { flags: 0 };

// Scratch views for bit reinterpretation: F32[0] and I32[0] alias the low word of F64[0].
// Little-endian host (memory.ts refuses big-endian hosts). Never hold a value in them across a
// call to another helper.
const scratch = new ArrayBuffer(8);
export const F64 = new Float64Array(scratch);
export const F32 = new Float32Array(scratch);
export const I32 = new Int32Array(scratch);

// Exact powers of two 2^-1100 .. 2^1100 (0 and ∞ outside binary64), built by repeated exact
// scaling rather than Math.pow, whose accuracy the language does not guarantee.
const POW2_BIAS = 1100;
const POW2_TABLE = new Float64Array(2 * POW2_BIAS + 1);
{
  let p = 1;
  for (let k = 0; k <= POW2_BIAS; k++, p *= 2) POW2_TABLE[POW2_BIAS + k] = p;
  p = 1;
  for (let k = 0; k <= POW2_BIAS; k++, p *= 0.5) POW2_TABLE[POW2_BIAS - k] = p;
}
/** 2^k exactly, for -1100 ≤ k ≤ 1100. */
export function pow2(k: number): number {
  return POW2_TABLE[POW2_BIAS + k];
}

export const MAX_F32 = 3.4028234663852886e38; // (2 − 2^-23) · 2^127
export const MAX_F64 = Number.MAX_VALUE;
const TWO_128 = pow2(128);
const MIN_NORMAL_F32 = pow2(-126);
// Below 2^-126 the 24-bit grid with unbounded exponent has spacing 2^-150. A value v below
// 2^-126 rounds (unbounded) up to 2^-126 from NEAREST_UP_F32 on when rounding to nearest, and
// from above AWAY_UP_F32 when rounding away from zero; toward zero it stays below.
const NEAREST_UP_F32 = pow2(-126) - pow2(-151);
const AWAY_UP_F32 = pow2(-126) - pow2(-150);

/** Dekker/Veltkamp splitter 2^27 + 1 for binary64. */
const SPLIT = 134217729;

/**
 * Exact error a·b − p of p = RN(a·b) (Dekker's TwoProduct). Caller's contract: |a|, |b| ≤ 2^995
 * (the split must not overflow) and ulp(a)·ulp(b) ≥ 2^-1074 (no partial product underflows).
 */
export function prodErr(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** True when directed mode rm rounds a result of sign `neg` away from zero (RUP for a positive
 * result, RDN for a negative one); false for RTZ and for the opposite directed mode.
 * Meaningless for RNE and RMM. */
function awayMag(rm: number, neg: boolean): boolean {
  return rm === RUP ? !neg : rm === RDN && neg;
}

/** True when mode rm rounds a result of sign `neg` to nearest or away from zero, i.e. when an
 * exact magnitude at or above the overflow threshold of round-to-nearest certainly overflows.
 * In the other modes (toward zero in magnitude) a value just below 2^(emax+1) rounds to max
 * finite and does not overflow. */
export function nearOrAway(rm: number, neg: boolean): boolean {
  return rm === RNE || rm === RMM || (rm !== RTZ && awayMag(rm, neg));
}

/**
 * Whether to add one unit to the kept significand. `cls` compares the discarded part with half
 * a unit: 1 above, 0 exactly half, -1 below (but non-zero). `odd`: the kept significand is odd.
 */
function roundUp(cls: number, odd: boolean, rm: number, neg: boolean): boolean {
  switch (rm) {
    case RNE: return cls > 0 || (cls === 0 && odd);
    case RMM: return cls >= 0;
    case RTZ: return false;
    default: return awayMag(rm, neg);
  }
}

/** Result of an overflowing binary64 operation with sign `neg`: OF and NX, and ±∞ or ±max
 * finite by the mode (IEEE 754-2019 §7.4). */
export function overflowD(neg: boolean, rm: number): number {
  acc.flags |= OF | NX;
  const m = nearOrAway(rm, neg) ? Infinity : MAX_F64;
  return neg ? -m : m;
}

/** r with its magnitude moved one ulp up (dir > 0) or down (dir < 0), by its bit pattern. */
export function stepMag(r: number, dir: number): number {
  F64[0] = r;
  let lo = I32[0], hi = I32[1];
  if (dir > 0) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi = (hi + 1) | 0;
  } else {
    if (lo === 0) hi = (hi - 1) | 0;
    lo = (lo - 1) | 0;
  }
  I32[0] = lo;
  I32[1] = hi;
  return F64[0];
}

/**
 * Finish an inexact binary64 operation. r = RN(exact), finite and non-zero; sE = sign of
 * (exact − r), non-zero; tie: exact is the midpoint between r and its neighbour on that side.
 * Sets NX, and OF when a directed step reaches ∞. Results here are never tiny (callers route
 * tiny results to `roundBigD`).
 */
export function roundDirD(r: number, sE: number, tie: boolean, rm: number): number {
  acc.flags |= NX;
  const neg = r < 0;
  const beyond = (sE > 0) !== neg; // |exact| > |r|: RN rounded toward zero
  let out = r;
  switch (rm) {
    case RNE: return r;
    case RMM: if (tie && beyond) out = stepMag(r, 1); break;
    case RTZ: if (!beyond) out = stepMag(r, -1); break;
    default:
      // RDN/RUP: move only when RN went the wrong way for the direction.
      if (awayMag(rm, neg)) { if (beyond) out = stepMag(r, 1); }
      else if (!beyond) out = stepMag(r, -1);
  }
  if (out - out !== 0) acc.flags |= OF; // stepped from max finite to ∞
  return out;
}

/** Whether exact = r + e (e the exact error, non-zero) is the midpoint between r and its
 * neighbour on e's side. Both sides are exact: neighbours differ by one ulp. */
export function isTieD(r: number, e: number): boolean {
  const n = stepMag(r, (e > 0) === (r > 0) ? 1 : -1);
  return n - r === 2 * e;
}

/**
 * Round to binary32. Contract: d is finite and non-zero, d = RN64(v) for the exact result v,
 * and sE = sign(v − d) (0 when v = d). Returns the binary32 result as a number (±∞ on
 * overflow) and raises NX, OF and UF (tininess after rounding) in `acc`.
 *
 * Why d and a sign suffice: binary32 grid points and midpoints are binary64 numbers, and RN64
 * is monotonic, so v and d lie on the same side of each of them unless d is one, and then sE
 * says which side v is on.
 */
export function roundF32(d: number, sE: number, rm: number): number {
  const neg = d < 0;
  const a = neg ? -d : d;
  const sM = neg ? -sE : sE; // sign of |v| − |d|
  F64[0] = a;
  const hi = I32[1], lo = I32[0];
  const bexp = hi >>> 20;
  let M = (hi & 0xfffff) * 4294967296 + (lo >>> 0); // significand as an integer < 2^53
  let E: number; // a = M · 2^(E−52)
  if (bexp === 0) E = -1022;
  else { M += 4503599627370496; E = bexp - 1023; }
  // Quantum of the binary32 result: 24-bit precision, or 2^-149 in the subnormal range.
  const qe = E >= -126 ? E - 23 : -149;
  const unit = pow2(qe - (E - 52));
  const kept = Math.floor(M / unit);
  const rem = M - kept * unit;
  let R: number, inexact = true;
  if (rem === 0 && sM <= 0) {
    if (sM === 0) { R = a; inexact = false; }
    else if (rm === RTZ || ((rm === RDN || rm === RUP) && !awayMag(rm, neg))) {
      // |v| is just below the binary32 number a: round down to a's predecessor.
      F32[0] = a; // a ≥ 2^128 becomes ∞, whose predecessor is max finite
      I32[0] = I32[0] - 1;
      R = F32[0];
    } else R = a;
  } else {
    const half = unit * 0.5;
    const cls = rem > half ? 1 : rem < half ? -1 : sM;
    R = (roundUp(cls, kept % 2 === 1, rm, neg) ? kept + 1 : kept) * pow2(qe);
  }
  if (R >= TWO_128 || a > TWO_128) {
    // Overflow, even when v itself is exact in binary64 (OF implies NX: the result is not v).
    acc.flags |= OF | NX;
    R = nearOrAway(rm, neg) ? Infinity : MAX_F32;
  } else if (inexact) {
    acc.flags |= NX;
    if (R <= MIN_NORMAL_F32 && (a < MIN_NORMAL_F32 || (a === MIN_NORMAL_F32 && sM < 0))) {
      // |v| < 2^-126. Tiny iff v rounded to 24 bits with unbounded exponent stays below 2^-126;
      // it differs from "R is subnormal" only just below 2^-126. The thresholds are binary64
      // numbers, so comparing d (and sM when d equals one) compares v.
      let reaches = false;
      if (rm === RNE || rm === RMM) reaches = a > NEAREST_UP_F32 || (a === NEAREST_UP_F32 && sM >= 0);
      else if (rm !== RTZ && awayMag(rm, neg)) reaches = a > AWAY_UP_F32 || (a === AWAY_UP_F32 && sM > 0);
      if (!reaches) acc.flags |= UF;
    }
  }
  return neg ? -R : R;
}

// ---- Exact slow path (BigInt) -------------------------------------------------------------

let partNeg = false;
let partSig = 0n;
let partExp = 0;

/** Split finite non-zero x into partNeg, partSig (integer significand) and partExp: |x| = partSig · 2^partExp. */
function parts(x: number): void {
  F64[0] = x;
  const hi = I32[1], lo = I32[0];
  const bexp = (hi >>> 20) & 0x7ff;
  let m = (hi & 0xfffff) * 4294967296 + (lo >>> 0);
  if (bexp !== 0) m += 4503599627370496;
  partNeg = hi < 0;
  partSig = BigInt(m);
  partExp = (bexp === 0 ? 1 : bexp) - 1075;
}

function bitLength(n: bigint): number {
  return n.toString(2).length;
}

/** Round sig (> 0) dropping `shift` (> 0) low bits. */
function roundBits(sig: bigint, shift: number, rm: number, neg: boolean): { kept: bigint; inexact: boolean } {
  const s = BigInt(shift);
  const kept = sig >> s;
  const rem = sig - (kept << s);
  if (rem === 0n) return { kept, inexact: false };
  const half = 1n << (s - 1n);
  const cls = rem > half ? 1 : rem < half ? -1 : 0;
  return { kept: roundUp(cls, (kept & 1n) === 1n, rm, neg) ? kept + 1n : kept, inexact: true };
}

/**
 * Correctly round (−1)^neg · sig · 2^exp (sig > 0) to binary64 in mode rm, raising NX, OF, UF.
 * The exact path of the binary64 operations, taken when a fast path's error terms could
 * underflow or overflow.
 */
export function roundBigD(neg: boolean, sig: bigint, exp: number, rm: number): number {
  const len = bitLength(sig);
  const E = exp + len - 1; // 2^E ≤ |value| < 2^(E+1)
  const q = Math.max(E - 52, -1074); // quantum exponent
  let kept = sig, inexact = false;
  if (q > exp) ({ kept, inexact } = roundBits(sig, q - exp, rm, neg));
  else kept = sig << BigInt(exp - q);
  if (bitLength(kept) + q > 1024) return overflowD(neg, rm);
  if (inexact) {
    acc.flags |= NX;
    if (E < -1022) {
      // Tiny after rounding unless the 53-bit rounding with unbounded exponent reaches 2^-1022.
      let tiny = true;
      if (E === -1023 && len > 53) tiny = roundBits(sig, len - 53, rm, neg).kept !== 1n << 53n;
      if (tiny) acc.flags |= UF;
    }
  }
  const r = Number(kept) * pow2(q);
  return neg ? -r : r;
}

/** Exact fused a·b + c for finite a, b, c, rounded by `roundBigD`. Used for fmadd, and with
 * b = 1 or c = 0 for add and mul, outside the fast paths' safe range. An exact zero sum is +0
 * (−0 in RDN), IEEE 754-2019 §6.3; callers handle zero operands before coming here. */
export function slowFmaD(a: number, b: number, c: number, rm: number): number {
  parts(a);
  const na = partNeg, ma = partSig, ea = partExp;
  parts(b);
  const np = na !== partNeg, mp = ma * partSig, ep = ea + partExp;
  if (c === 0) return roundBigD(np, mp, ep, rm);
  parts(c);
  const e0 = Math.min(ep, partExp);
  const P = mp << BigInt(ep - e0), C = partSig << BigInt(partExp - e0);
  const S = (np ? -P : P) + (partNeg ? -C : C);
  if (S === 0n) return rm === RDN ? -0 : 0;
  return S < 0n ? roundBigD(true, -S, e0, rm) : roundBigD(false, S, e0, rm);
}

/** Exact a / b for finite non-zero a, b, rounded by `roundBigD`. */
export function slowDivD(a: number, b: number, rm: number): number {
  parts(a);
  const na = partNeg, ma = partSig, ea = partExp;
  parts(b);
  // ≥ 57 quotient bits, then one sticky bit for a non-zero remainder: enough for a 53-bit result.
  const K = 110;
  const num = ma << BigInt(K);
  const quo = num / partSig;
  const sticky = num - quo * partSig === 0n ? 0n : 1n;
  return roundBigD(na !== partNeg, (quo << 1n) | sticky, ea - partExp - K - 1, rm);
}
