// The client of user/tests/restart/server.ts: for each way of failing, one call that makes the
// server fail (it must come back with an error: the kernel aborts the call when the supervisor
// stops the server), then echo calls until the restarted server answers. Then it reads a line
// typed at the UART through the console. Everything it sees goes to the console.

import { call, setMr, getMr, msgInfo, Err } from "../../lib/l4";
import { print, setConsoleTag, readInput, findService } from "../../lib/console";

const SERVER_SLOT = 200;


function echo(ep: i32, x: i32): i32 {
  setMr(0, x);
  const e = call(ep, msgInfo(1, 1));
  if (e != Err.Ok) return -e;
  if (getMr(0) != Err.Ok || getMr(1) != x + 1) return -100;
  return getMr(2);
}

export function main(): i32 {
  setConsoleTag("client");
  const ep = findService("crashy", SERVER_SLOT);
  if (ep <= 0) {
    print("no crashy service (" + ep.toString() + ")");
    return 1;
  }
  const n0 = echo(ep, 41);
  print("echo: " + (n0 > 0 ? "ok" : "error " + (-n0).toString()));
  const kinds = [1, 2, 3, 4, 5];
  const names = ["wild pointer", "unreachable", "endless loop", "pointer beyond 2 GiB", "assertion"];
  for (let i = 0; i < kinds.length; i++) {
    setMr(0, kinds[i]);
    const e = call(ep, msgInfo(2, 1));
    print("fail " + kinds[i].toString() + " (" + names[i] + "): call returned error " + e.toString());
    let tries = 0;
    let n = echo(ep, 7);
    while (n <= 0 && tries < 100) {
      tries++;
      n = echo(ep, 7);
    }
    print("after restart: echo " + (n > 0 ? "ok, calls served this life: " + n.toString() : "failed " + (-n).toString()));
  }
  print("type a line:");
  let line = "";
  for (;;) {
    const b = readInput(64);
    if (b === null) break;
    let nl = false;
    for (let i = 0; i < b.length; i++) {
      if (b[i] == 0x0a || b[i] == 0x0d) nl = true;
      else line += String.fromCharCode(b[i]);
    }
    if (nl) break;
  }
  print("typed: " + line);
  print("done");
  return 0;
}
