// Wasm traps after memory.grow: the memory grows by one page, the last byte of the new page is
// usable, and a load that starts 2 bytes before the new end (so it ends past it) traps, as in a
// wasm engine, also under `l4ts run`, where the pages past the current size are the root
// task's linear reserve (src/cli/run-kernel.test.ts).
export function main(): i32 {
  const old = memory.grow(1);
  if (old < 0) return 1;
  const end = <usize>memory.size() << 16;
  store<u8>(end - 1, 7);
  if (load<u8>(end - 1) != 7) return 2;
  console.log("grown");
  return load<i32>(end - 2);
}
