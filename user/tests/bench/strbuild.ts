// String building: number formatting and concatenation into a growing string.
export function main(): i32 {
  let total = 0;
  for (let r = 0; r < 20; r++) {
    let s = "";
    for (let i = 0; i < 200; i++) s += i.toString() + ",";
    const parts = s.split(",");
    total += s.length + parts.length;
  }
  return total;
}
