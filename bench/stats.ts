// Small statistics helpers for the benchmarks: medians over repeated runs, as DEVELOPERS.md asks
// (shared, noisy machines: quote medians and compare by ratios measured in one run).

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
