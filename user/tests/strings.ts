// Strings: concatenation, slicing, searching, case, number <-> string conversions.
export function main(): i32 {
  let s = "";
  for (let i = 0; i < 50; i++) s += String.fromCharCode(65 + (i % 26));
  console.log(s);
  console.log(s.substring(3, 12) + "|" + s.slice(-5) + "|" + s.charAt(7));
  console.log(s.indexOf("XYZ").toString() + " " + s.lastIndexOf("AB").toString());
  console.log("Hello, World".toUpperCase() + " " + "MiXeD".toLowerCase());
  console.log("a,b,,c".split(",").join("+"));
  console.log("  trim me  ".trim() + "!" + "x".repeat(5) + "abc".padStart(6, "-"));
  console.log((12345).toString() + " " + (-987654321).toString() + " " + (255).toString(16));
  console.log((3.14159).toString() + " " + (1e21).toString() + " " + (0.1 + 0.2).toString() + " " + (-0.0).toString());
  console.log(I32.parseInt("-4242").toString() + " " + F64.parseFloat("2.5e3").toString());
  console.log("héllo wörld".length.toString() + " " + String.UTF8.byteLength("héllo wörld").toString());
  let h: u32 = 2166136261;
  for (let i = 0; i < s.length; i++) h = (h ^ <u32>s.charCodeAt(i)) * 16777619;
  return <i32>(h & 0x7fffffff) % 1000;
}
