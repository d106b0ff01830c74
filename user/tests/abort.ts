// An assertion failure: AssemblyScript calls env.abort, which ends the program.
export function main(): i32 {
  const a = [1, 2, 3];
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  assert(s == 7, "sum is not seven");
  return s;
}
