// Classes, inheritance, virtual calls, interfaces-by-abstract-class, closures (call_indirect).
abstract class Shape {
  constructor(public name: string) {}
  abstract area(): f64;
  describe(): string { return this.name + ":" + this.area().toString(); }
}
class Rect extends Shape {
  constructor(public w: f64, public h: f64) { super("rect"); }
  area(): f64 { return this.w * this.h; }
}
class Square extends Rect {
  constructor(s: f64) { super(s, s); this.name = "square"; }
  override describe(): string { return "[" + super.describe() + "]"; }
}
class Circle extends Shape {
  constructor(public r: f64) { super("circle"); }
  area(): f64 { return Math.PI * this.r * this.r; }
}
function apply(f: (x: i32) => i32, v: i32): i32 { return f(v); }
export function main(): i32 {
  const shapes: Shape[] = [new Rect(2, 3), new Square(4), new Circle(1.5), new Rect(0.5, 8)];
  let total = 0.0;
  for (let i = 0; i < shapes.length; i++) {
    console.log(shapes[i].describe());
    total += shapes[i].area();
  }
  const fns: ((x: i32) => i32)[] = [(x: i32): i32 => x + 1, (x: i32): i32 => x * x, (x: i32): i32 => -x];
  let acc = 3;
  for (let i = 0; i < 9; i++) acc = apply(fns[i % 3], acc) % 100003;
  console.log("total " + total.toString() + " acc " + acc.toString());
  return <i32>total + acc;
}
