// Wasm traps: an out-of-bounds load far beyond linear memory, reached through two calls.
@inline function deep(p: usize): i32 { return load<i32>(p); }
function middle(p: usize): i32 { return deep(p) + 1; }
export function main(): i32 {
  let s = 0;
  for (let i = 0; i < 3; i++) s += middle(<usize>i * 4);
  return s + middle(0x7fff_fff0);
}
