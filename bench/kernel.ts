// `npm run bench -- kernel [--runs N] [--roundtrips N] [--trace FILE]`: the kernel's figures.
//
//  - IPC: a client calls a server in another address space, the server replies and waits
//    (Sys.Call / Sys.ReplyRecv, one register of payload, badge checked); round trips per second
//    of host time and user instructions retired per round trip. Variant `ipc_sc`: the same with
//    both threads bound to scheduling contexts (10 ms budget per 10 ms period, as the booted
//    system's components have), which the fast path also serves (docs/KERNEL.md).
//  - Page faults: a client touches fresh pages; a user-level pager answers each fault with a map
//    item; host microseconds per fault -> map -> retry.
//  - IRQ latency: a byte arrives at the UART at a known virtual cycle; the device raises its
//    PLIC line, the kernel claims it and signals the notification a user-level driver (which
//    mapped the UART and enabled its receive interrupt itself) waits on; the driver reads
//    `cycle` when it wakes; virtual microseconds between the two.
// Median of N runs after a warm-up. Last line: JSON.

import { writeFileSync } from 'node:fs';
import {
  bootSystem, make, spawn, grantCap, rootInvoke, resume, userWord, callPair, bindSc, bootInfoPa, SERVER_START, POOL_PAGER,
  type TestSystem,
} from '../src/kernel/test-support.ts';
import { ObjType, Rights, BootInfo } from '../src/abi/caps.ts';
import { Method } from '../src/abi/sys.ts';
import { median, round } from './stats.ts';
import { UART_IRQ } from '../src/machine/uart16550.ts';

const SERVER = `${SERVER_START}
loop:
  addi a2, a2, 1
  li a1, 1
  li a6, 0
  li a0, 1
  li a7, SYS_REPLY_RECV
  ecall
  j loop
`;
const CLIENT = `
_start:
  mv s0, a0
loop:
  li a7, SYS_CALL
  li a0, 1
  li a1, 1
  mv a2, s0
  ecall
  addi t0, s0, 1
  bne a2, t0, fail
  addi s0, s0, -1
  bnez s0, loop
  li a7, SYS_PUTC
  li a0, 0x4b
  ecall
fail:
  li a7, SYS_RECV
  li a0, 2
  ecall
`;

function ipcOnce(n: number, trace: boolean, sc = false): { sys: TestSystem; perS: number; insns: number; fast: number } {
  const sys = bootSystem();
  sys.kernel.trace.enabled = trace;
  sys.board.run(1000); // the root stops
  const { server, client } = callPair(sys, SERVER, CLIENT);
  rootInvoke(sys, client.threadSlot, Method.ThreadSetRegs, client.symbols.get('_start')!, 0xe000_0000, n);
  if (sc) for (const t of [server, client]) bindSc(sys, t, 100_000, 100_000); // ticks at 10 MHz: 10 ms / 10 ms
  resume(sys, server, client);
  const f0 = sys.kernel.stats.fastpath;
  const i0 = sys.board.hart.instret;
  const t0 = performance.now();
  sys.board.run(Number.MAX_SAFE_INTEGER);
  const s = (performance.now() - t0) / 1000;
  if (!sys.kernel.debugOut.endsWith('K')) throw new Error('kernel bench: IPC client failed');
  return { sys, perS: n / s, insns: (sys.board.hart.instret - i0) / n, fast: (sys.kernel.stats.fastpath - f0) / (2 * n) };
}

function faultOnce(pages: number): number {
  const sys = bootSystem(undefined, { dramSize: 64 << 20 });
  sys.board.run(1000);
  // 512 pages for the pager to hand out, made first: the tasks' page tables are charged to
  // the untyped they come from, which must keep room for them (docs/KERNEL.md).
  const f = make(sys, ObjType.Frame, 9);
  const pep = make(sys, ObjType.Endpoint);
  const done = make(sys, ObjType.Endpoint);
  const pager = spawn(sys, POOL_PAGER, { prio: 150, start: false });
  const client = spawn(sys, `
_start:
  li s0, 0x20000000
  mv s1, a0
1:
  sw s1, 0(s0)
  li t1, 0x1000
  add s0, s0, t1
  addi s1, s1, -1
  bnez s1, 1b
  li a7, SYS_RECV
  li a0, 2
  ecall
`, { pager: pep, start: false });
  rootInvoke(sys, f, Method.FrameMap, pager.taskSlot, 0x1000_0000, 3);
  grantCap(sys, pager, pep, 1);
  grantCap(sys, client, done, 2);
  rootInvoke(sys, client.threadSlot, Method.ThreadSetRegs, client.symbols.get('_start')!, 0xe000_0000, pages);
  resume(sys, pager, client);
  const f0 = sys.kernel.stats.faults;
  const t0 = performance.now();
  sys.board.run(Number.MAX_SAFE_INTEGER);
  const us = (performance.now() - t0) * 1000;
  if (sys.kernel.stats.faults - f0 !== pages) throw new Error(`kernel bench: ${sys.kernel.stats.faults - f0} faults, expected ${pages}`);
  return us / pages;
}

function irqOnce(): number {
  const sys = bootSystem();
  sys.board.run(1000);
  const n = make(sys, ObjType.Notification);
  const info = (w: number): number => sys.board.dram.readU32(bootInfoPa(sys.kernel) + 4 * w);
  const irqFirst = info(BootInfo.IrqFirst);
  const uartPage = info(BootInfo.IoMemFirst); // I/O page 0 is the UART's
  // A user-level UART driver: it maps the device's registers, enables the receive interrupt,
  // waits on the notification bound to the UART's PLIC source, reads the cycle counter when it
  // wakes, then takes the byte (the device drops its line) and acknowledges.
  const drv = spawn(sys, `
_start:
  li s0, 0x30000000
  li t0, 1
  sb t0, 1(s0)            # IER: received data available
  li a7, SYS_RECV
  li a0, 1
  li a6, 0
  ecall
  rdcycle t0
  la t1, woke
  sw t0, 0(t1)
  lbu t2, 0(s0)           # RBR
  sw t2, 4(t1)
  li a7, SYS_INVOKE       # IrqAck
  li a0, 2
  li a1, 0x49
  ecall
  li a7, SYS_RECV
  li a0, 3
  ecall
.data
woke: .word 0, 0
`, { start: false });
  // A busy lower-priority thread, so that the interrupt preempts real work.
  spawn(sys, `_start: j _start`, { prio: 10 });
  rootInvoke(sys, uartPage, Method.FrameMap, drv.taskSlot, 0x3000_0000, 3);
  grantCap(sys, drv, n, 1, Rights.Read);
  grantCap(sys, drv, irqFirst + UART_IRQ - 1, 2);
  rootInvoke(sys, irqFirst + UART_IRQ - 1, Method.IrqSetNotification, n);
  rootInvoke(sys, drv.threadSlot, Method.ThreadResume);
  sys.board.run(10_000);
  const at = sys.board.clock.cycles + 12_345;
  sys.board.clock.at(at, () => sys.board.uart.pushInput(new Uint8Array([0x41])));
  sys.board.run(100_000);
  const va = drv.symbols.get('woke')!;
  const woke = userWord(sys, drv, va);
  if (userWord(sys, drv, va + 4) !== 0x41) throw new Error('kernel bench: the UART driver did not receive its byte');
  return ((woke - at) / sys.board.clock.cpuHz) * 1e6;
}

export async function main(argv: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const runs = opt('--runs', 5);
  const n = opt('--roundtrips', 1_000_000);
  const ti = argv.indexOf('--trace');
  ipcOnce(Math.min(n, 200_000), false); // warm-up
  const rt: number[] = [];
  let insns = 0;
  for (let k = 0; k < runs; k++) {
    const r = ipcOnce(n, false);
    rt.push(r.perS);
    insns = r.insns;
  }
  console.log(`ipc       round trips/s median=${round(median(rt), 0)} runs=[${rt.map((v) => round(v, 0)).join(', ')}] user insns/round trip=${round(insns, 1)}`);
  ipcOnce(Math.min(n, 200_000), false, true); // warm-up
  const rtSc: number[] = [];
  let fastSc = 0;
  for (let k = 0; k < runs; k++) {
    const r = ipcOnce(n, false, true);
    rtSc.push(r.perS);
    fastSc = r.fast;
  }
  console.log(`ipc_sc    round trips/s median=${round(median(rtSc), 0)} runs=[${rtSc.map((v) => round(v, 0)).join(', ')}] (both threads on scheduling contexts) fast-path share=${round(fastSc, 4)}`);
  faultOnce(200);
  const pf: number[] = [];
  for (let k = 0; k < runs; k++) pf.push(faultOnce(500));
  console.log(`pagefault fault->pager->map->retry us median=${round(median(pf), 2)} runs=[${pf.map((v) => round(v, 2)).join(', ')}]`);
  const irq: number[] = [];
  for (let k = 0; k < runs; k++) irq.push(irqOnce());
  console.log(`irq       UART byte->driver running, virtual us median=${round(median(irq), 3)}`);
  if (ti >= 0) {
    const r = ipcOnce(1000, true);
    writeFileSync(argv[ti + 1], r.sys.kernel.trace.toChromeJson());
    console.log(`trace     ${r.sys.kernel.trace.events().length} events -> ${argv[ti + 1]}`);
  }
  console.log(JSON.stringify({
    suite: 'kernel',
    ipc_roundtrips_per_s: round(median(rt), 0),
    ipc_insns_per_roundtrip: round(insns, 1),
    ipc_sc_roundtrips_per_s: round(median(rtSc), 0),
    ipc_sc_fastpath_share: round(fastSc, 4),
    pagefault_roundtrip_us: round(median(pf), 2),
    irq_latency_vus: round(median(irq), 3),
    runs,
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
