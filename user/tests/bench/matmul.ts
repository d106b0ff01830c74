// f64 matrix multiply: two 64x64 matrices, 4 times.
const N = 64;
export function main(): i32 {
  const a = new StaticArray<f64>(N * N), b = new StaticArray<f64>(N * N), c = new StaticArray<f64>(N * N);
  for (let i = 0; i < N * N; i++) { a[i] = <f64>(i % 17) * 0.5; b[i] = <f64>(i % 13) - 6.0; }
  for (let r = 0; r < 4; r++) {
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0.0;
        for (let k = 0; k < N; k++) s += a[i * N + k] * b[k * N + j];
        c[i * N + j] = s + <f64>r;
      }
    }
  }
  let t = 0.0;
  for (let i = 0; i < N * N; i++) t += c[i];
  return <i32>t;
}
