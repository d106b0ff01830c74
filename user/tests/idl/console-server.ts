// IDL pair test, server side: serves "console" (user/idl/console.json) on slot 16 with the
// generated dispatcher; keeps what it is written and hands it back on read.
import { ConsoleServer, ConsoleWriteResult, ConsoleReadResult, consoleServe } from '../../lib/gen/console';
import { ERR_WOULD_BLOCK } from '../../lib/gen/rt';

let buf = new Uint8Array(0);

class Echo extends ConsoleServer {
  write(badge: u32, text: Uint8Array, out: ConsoleWriteResult): i32 {
    const n = new Uint8Array(buf.length + text.length);
    n.set(buf, 0);
    n.set(text, buf.length);
    buf = n;
    out.written = <u32>text.length + badge * 1000;
    return 0;
  }
  read(badge: u32, max: u32, out: ConsoleReadResult): i32 {
    if (buf.length == 0) return ERR_WOULD_BLOCK;
    const n = min(<i32>max, buf.length);
    out.text = buf.slice(0, n);
    buf = buf.slice(n);
    return 0;
  }
}

export function main(): i32 {
  consoleServe(new Echo(), 16);
  return 0;
}
