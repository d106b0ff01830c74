// The console driver (docs/USERLAND.md "Console"): a user-level 16550 UART driver that holds
// the UART's register page and IRQ 10 and nothing else of the hardware, and serves the console
// protocol (proto.ts) to every component that uses the "console" service.
//
// Protocol: user/idl/console.json (write, read, tag), served with the generated ConsoleServer
// (user/lib/gen/console.ts); clients use user/lib/console.ts (print).
//
// Capability space (docs/MANIFEST.md "Capabilities", from CompSlot.FirstFree in the order
// expectedCapabilities lists them): 16 IoMem(UART) RW, 17 IrqHandler(10) W, 18 Notification
// (IRQ 10 signals bit 0) R, 19 Endpoint(svc:console) R.
//
// The register page is mapped with FrameMap at UART_VA, a page-aligned address inside the
// linear-memory range (below LINEAR_MAX) but far above any memory the driver will ever grow
// to: compiled code checks only that an address is below LINEAR_MAX and leaves the rest to the
// MMU, so plain `load<u8>`/`store<u8>` reach the byte registers (l4.peek/poke are word-sized,
// and the 16550's registers are bytes at odd offsets).
//
// Output: each client's bytes are collected per client until a newline and then written to
// the UART as one line `[tag] text` — a line from one client is never split by another's.
// Input is interrupt-driven: received-data interrupts (IER bit 0) reach the kernel's PLIC
// claim, which signals the notification; the driver drains the receive FIFO and acknowledges
// (IrqAck). A Read with nothing typed holds the caller's reply right for up to READ_HOLD_TICKS
// while waiting on the notification, then answers with the bytes (or none: the client calls
// again). The kernel gives a thread one implicit reply right, so while one read is held the
// other clients' calls wait in the endpoint queue for at most READ_HOLD_TICKS.

import { recv, nbRecv, frameMap, irqAck, debugPrint, Err, CompSlot, Rights } from "../lib/l4";
import {
  ConsoleServer, ConsoleWriteResult, ConsoleReadResult, consoleServe,
} from "../lib/gen/console";

const S_UART = 16;
const S_IRQ = 17;
const S_NTFN = 18;
const S_EP = 19;

/** Where the UART's register page is mapped (see above). */
const UART_VA: usize = 0x7fff_f000;
const RBR: usize = 0, THR: usize = 0, IER: usize = 1, FCR: usize = 2, LCR: usize = 3, LSR: usize = 5;
const LSR_DR: u8 = 0x01;

/** How long a Read waits for input before answering WouldBlock: 10 ms of mtime (10 MHz). */
const READ_HOLD_TICKS = 100_000;
/** A partial line this long is written out (tagged) without waiting for its newline. */
const LINE_MAX = 200;
const MAX_BYTES = 200;

class Client {
  tag: string;
  line: Array<u8> = new Array<u8>();
  constructor(b: u32) {
    this.tag = b.toString();
  }
}

const clients = new Map<u32, Client>();
const input = new Array<u8>();

function client(b: u32): Client {
  if (!clients.has(b)) clients.set(b, new Client(b));
  return clients.get(b);
}

function putByte(b: u8): void {
  store<u8>(UART_VA + THR, b); // THR is always empty: the board's UART sends in zero time
}

function emitLine(c: Client): void {
  putByte(0x5b); // [
  for (let i = 0; i < c.tag.length; i++) putByte(<u8>c.tag.charCodeAt(i));
  putByte(0x5d); // ]
  putByte(0x20);
  for (let i = 0; i < c.line.length; i++) putByte(c.line[i]);
  putByte(0x0a);
  c.line.length = 0;
}

function take(c: Client, b: u8): void {
  if (b == 0x0a) {
    emitLine(c);
  } else if (b != 0x0d) {
    c.line.push(b);
    if (c.line.length >= LINE_MAX) emitLine(c);
  }
}

function drainRx(): void {
  while ((load<u8>(UART_VA + LSR) & LSR_DR) != 0) input.push(load<u8>(UART_VA + RBR));
}

/** Take a pending interrupt, if any: drain the FIFO and acknowledge. */
function pollIrq(): void {
  if (nbRecv(S_NTFN) == Err.Ok) {
    drainRx();
    irqAck(S_IRQ);
  }
}

class Console extends ConsoleServer {
  write(b: u32, text: Uint8Array, out: ConsoleWriteResult): i32 {
    const c = client(b);
    for (let i = 0; i < text.length; i++) take(c, text[i]);
    out.written = <u32>text.length;
    return Err.Ok;
  }

  read(b: u32, max: u32, out: ConsoleReadResult): i32 {
    if (max == 0) return Err.InvalidArg;
    pollIrq();
    if (input.length == 0) {
      // Hold this caller's reply right and wait for the interrupt (or the hold time). A
      // notification wait leaves the reply right alone; the other clients wait meanwhile.
      if (recv(S_NTFN, READ_HOLD_TICKS) == Err.Ok) {
        drainRx();
        irqAck(S_IRQ);
      }
    }
    if (input.length == 0) return Err.WouldBlock;
    let n = input.length;
    if (<u32>n > max) n = <i32>max;
    if (n > MAX_BYTES) n = MAX_BYTES;
    const t = new Uint8Array(n);
    for (let i = 0; i < n; i++) t[i] = input[i];
    input.splice(0, n);
    out.text = t;
    return Err.Ok;
  }

  tag(b: u32, name: Uint8Array): i32 {
    if (name.length == 0) return Err.InvalidArg;
    for (let i = 0; i < name.length; i++) if (name[i] < 0x20 || name[i] > 0x7e) return Err.InvalidArg;
    client(b).tag = String.UTF8.decode(name.buffer);
    return Err.Ok;
  }
}

export function main(): i32 {
  const e = frameMap(S_UART, CompSlot.Task, <i32>UART_VA, Rights.Read | Rights.Write);
  if (e != Err.Ok) {
    debugPrint("console: cannot map the UART (error " + e.toString() + ")\n");
    return 1;
  }
  store<u8>(UART_VA + LCR, 0x03); // 8N1, DLAB off
  store<u8>(UART_VA + FCR, 0x01); // FIFO on, trigger level 1
  store<u8>(UART_VA + IER, 0x01); // received-data interrupts
  // A restarted driver may find the source claimed by the kernel for its previous life and
  // never acknowledged: drain and acknowledge whatever state it is in.
  nbRecv(S_NTFN);
  drainRx();
  irqAck(S_IRQ);
  const me = new Client(0);
  me.tag = "console";
  const hello = "ready";
  for (let i = 0; i < hello.length; i++) me.line.push(<u8>hello.charCodeAt(i));
  emitLine(me);
  consoleServe(new Console(), S_EP);
  return 0;
}
