// Sorting: quicksort (insertion sort for small ranges) of 20000 pseudo-random i32s.
function qsort(a: StaticArray<i32>, lo: i32, hi: i32): void {
  while (hi - lo > 16) {
    const p = a[(lo + hi) >>> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { const t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { qsort(a, lo, j); lo = i; } else { qsort(a, i, hi); hi = j; }
  }
  for (let k = lo + 1; k <= hi; k++) {
    const v = a[k];
    let m = k - 1;
    while (m >= lo && a[m] > v) { a[m + 1] = a[m]; m--; }
    a[m + 1] = v;
  }
}
export function main(): i32 {
  const n = 20000;
  const a = new StaticArray<i32>(n);
  let x: u32 = 12345;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; a[i] = <i32>(x % 1000000); }
  qsort(a, 0, n - 1);
  let ok = 1;
  for (let i = 1; i < n; i++) if (a[i - 1] > a[i]) ok = 0;
  return ok * (a[n >> 1] % 1000);
}
