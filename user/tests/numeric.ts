// i64 and f64 arithmetic and conversions: multiplication, division, shifts, bit counts,
// float<->int conversions (saturating and checked), rounding, reinterpretation.
export function main(): i32 {
  let x: u64 = 0x9e3779b97f4a7c15;
  let acc: u64 = 0;
  for (let i = 0; i < 200; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    acc += x * 0x2545f4914f6cdd1d + (x / (<u64>i + 3)) + (x % 1000003) + <u64>clz(x) + <u64>popcnt(x) + <u64>ctz(x | 1);
    acc = rotl<u64>(acc, <u64>(i & 63));
  }
  const si: i64 = -<i64>(acc >> 3);
  console.log(acc.toString() + " " + si.toString() + " " + (si / 12345).toString() + " " + (si % 9876).toString());
  let f = 0.0;
  for (let i = 1; i <= 100; i++) f += Math.sqrt(<f64>i) / <f64>i - Math.floor(<f64>i / 3.0) * 0.001;
  const g: f32 = <f32>f * 1.5;
  console.log(f.toString() + " " + g.toString() + " " + Math.round(f * 1000).toString() + " " + Math.ceil(-f).toString());
  const big = <f64>acc;
  const back = <u64>(big / 4);
  const neg = <i64>(-big / 8);
  console.log(big.toString() + " " + back.toString() + " " + neg.toString() + " " + (<f32>(<i64>acc)).toString());
  console.log(reinterpret<u64>(f).toString() + " " + reinterpret<u32>(g).toString() + " " + (<i32>(-2.75)).toString() + " " + (<u32>(3.99)).toString());
  console.log(Math.min(-0.0, 0.0).toString() + " " + Math.max(1.0, NaN).toString() + " " + (i32.MIN_VALUE / -1 == i32.MIN_VALUE).toString());
  return <i32>(acc & 0xffff);
}
