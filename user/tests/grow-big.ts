// memory.grow to several MiB: under `l4ts run` the root task's runtime maps every new 4 KiB page
// itself (src/cli/run-kernel.test.ts). Every page gets a word, the sum is checked, and main
// returns 0.
export function main(): i32 {
  const start = memory.size();
  const target = 6 * 16; // 6 MiB in 64 KiB pages
  if (memory.grow(target - start) < 0) return 1;
  const bytes = <usize>memory.size() << 16;
  const buf = new ArrayBuffer(1 << 20); // the allocator grows memory further
  store<u8>(changetype<usize>(buf) + (1 << 20) - 1, 9);
  let sum: u32 = 0;
  for (let p: usize = <usize>start << 16; p < bytes; p += 4096) store<u32>(p, <u32>(p >>> 12));
  for (let p: usize = <usize>start << 16; p < bytes; p += 4096) sum += load<u32>(p);
  let want: u32 = 0;
  for (let q: u32 = <u32>start << 4; q < <u32>(bytes >>> 12); q++) want += q;
  if (sum != want) return 2;
  if (load<u8>(changetype<usize>(buf) + (1 << 20) - 1) != 9) return 3;
  console.log("grow-big: " + (memory.size() >>> 4).toString() + " MiB, every page checked");
  return 0;
}
