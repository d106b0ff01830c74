// Map, Set and Array: insertion, deletion, iteration, sorting.
export function main(): i32 {
  const m = new Map<i32, string>();
  for (let i = 0; i < 500; i++) m.set(i * 7 % 501, "v" + i.toString());
  for (let i = 0; i < 500; i += 3) m.delete(i);
  const set = new Set<string>();
  const keys = m.keys();
  for (let i = 0; i < keys.length; i++) set.add(m.get(keys[i]));
  const arr = new Array<i32>();
  for (let i = 0; i < 300; i++) arr.push((i * 7919) % 1000 - 500);
  arr.sort((a, b) => a - b);
  console.log(arr.slice(0, 8).join(",") + " ... " + arr.slice(-4).join(","));
  const f = arr.filter((x) => x % 3 == 0).map<i32>((x) => x * 2);
  const sum = f.reduce((acc, x) => acc + x, 0);
  console.log(m.size.toString() + " " + set.size.toString() + " " + f.length.toString() + " " + sum.toString());
  const strs = ["pear", "apple", "fig", "banana", "cherry"];
  strs.sort();
  console.log(strs.join(" ") + " " + strs.includes("fig").toString() + " " + strs.indexOf("cherry").toString());
  const f64s = new Float64Array(16);
  for (let i = 0; i < 16; i++) f64s[i] = Math.sin(<f64>i) * 100;
  f64s.sort();
  console.log(f64s[0].toString() + " " + f64s[15].toString());
  return m.size + set.size + sum;
}
