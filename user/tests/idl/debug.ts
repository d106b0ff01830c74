// Debug output through the kernel (Sys.DebugPutc), for the user-level tests.
// @ts-ignore: decorator
@external("l4", "debugputc")
declare function putc(c: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32): i32;

export function say(s: string): void {
  for (let i = 0; i < s.length; i++) putc(s.charCodeAt(i), 0, 0, 0, 0, 0, 0);
}
export function sayNum(n: i32): void { say(n.toString()); }
export function sayHex(n: u32): void { say('0x' + n.toString(16)); }
