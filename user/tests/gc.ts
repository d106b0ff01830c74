// GC pressure: many short-lived objects and strings, a long-lived linked structure, and
// explicit collections, under the incremental collector.
class Node { constructor(public value: i32, public next: Node | null) {} }
export function main(): i32 {
  let keep: Node | null = null;
  let checksum = 0;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 200; i++) {
      const tmp = new Node(i, null);
      const s = "n" + i.toString() + ":" + round.toString();
      checksum += tmp.value + s.length;
      if (i % 50 == 0) keep = new Node(round * 1000 + i, keep);
    }
    const arr = new Array<string>(64);
    for (let k = 0; k < 64; k++) arr[k] = k.toString();
    checksum += arr.join("").length;
    if (round % 10 == 9) __collect();
  }
  let n = 0;
  let p = keep;
  while (p !== null) { n += p.value % 97; p = p.next; }
  console.log("checksum " + checksum.toString() + " chain " + n.toString());
  return (checksum + n) % 65536;
}
