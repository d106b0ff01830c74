// The I/O rig: boots the kernel on a board with a virtio-blk disk and plays the root task from
// TypeScript (through Kernel.invokeAs, the same decode and checks as the system call) to build
// the driver system of docs/DRIVERS.md: a driver task holding only its device's register page,
// IRQ, DMA-window capability and frames, and client tasks holding a badged endpoint, their own
// notification, their data frame and ring page. Used by tests/io/*.test.ts and bench/io.ts.
// Runtime calls (console.log, exit, abort) are served by the kernel's semihost hook.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Board } from '../../src/machine/board.ts';
import { VirtioBlk, type VirtioBlkOptions } from '../../src/machine/virtio/blk.ts';
import type { BlockBackend } from '../../src/machine/virtio/blk-backend.ts';
import type { VirtioNet } from '../../src/machine/virtio/net.ts';
import type { VirtioDevice } from '../../src/machine/virtio/mmio.ts';
import { Kernel, type SemihostAction } from '../../src/kernel/kernel.ts';
import type { Thread } from '../../src/kernel/objects/thread.ts';
import type { Task } from '../../src/kernel/objects/task.ts';
import { asm, IDLE_ROOT, bootInfoPa } from '../../src/kernel/test-support.ts';
import { BootInfo, CompSlot, ObjType, Rights } from '../../src/abi/caps.ts';
import { Method } from '../../src/abi/sys.ts';
import { Err, errName } from '../../src/abi/errors.ts';
import { RtCall } from '../../src/abi/runtime.ts';
import { PAGE_SIZE, STACK_TOP, UTCB_BASE } from '../../src/abi/layout.ts';
import { parseElf32 } from '../../src/abi/elf.ts';
import { compileAssemblyScript } from '../../src/toolchain/wasm2rv/cli-build.ts';
import { wasm2rv } from '../../src/toolchain/wasm2rv/compile.ts';
import * as P from '../../user/lib/io-proto.ts';

const ROOT_DIR = new URL('../../', import.meta.url).pathname;

// ---- building the AssemblyScript programs (cached by source hash) ----------------------------

const SOURCES = ['user/drivers', 'user/lib', 'src/toolchain/wasm2rv'];
const memo = new Map<string, Uint8Array>();

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const n of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, n.name);
      if (n.isDirectory()) walk(p);
      else if (n.name.endsWith('.ts')) { h.update(p); h.update(readFileSync(p)); }
    }
  };
  for (const s of SOURCES) walk(join(ROOT_DIR, s));
  return h.digest('hex').slice(0, 16);
}

let hashOnce: string | null = null;

/** Build user/drivers/<rel> (e.g. 'blk/main.ts') into an ELF (asc + wasm2rv), cached on disk by
 *  the hash of the sources (taken once per process) and in memory. */
export async function buildProgram(rel: string): Promise<Uint8Array> {
  hashOnce ??= sourceHash();
  const key = `${rel}:${hashOnce}`;
  const m = memo.get(key);
  if (m !== undefined) return m;
  const dir = join(tmpdir(), 'l4ts-io-cache');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${rel.replace(/\//g, '_')}-${key.split(':')[1]}.elf`);
  let elf: Uint8Array;
  if (existsSync(file)) {
    elf = new Uint8Array(readFileSync(file));
  } else {
    const wasm = await compileAssemblyScript(join(ROOT_DIR, 'user/drivers', rel), ['--initialMemory', '4']);
    elf = wasm2rv(wasm).elf;
    writeFileSync(file, elf);
  }
  memo.set(key, elf);
  return elf;
}

// ---- the rig ----------------------------------------------------------------------------------

export interface RigOptions {
  /** A virtio-blk disk in slot 0 (then the NICs), or only NICs from slot 0. */
  disk?: BlockBackend;
  nics?: VirtioNet[];
  dramSize?: number;
  blk?: VirtioBlkOptions;
}

export interface Proc {
  name: string;
  taskSlot: number;
  threadSlot: number;
  task: Task;
  thread: Thread;
  /** Exit status once it stopped (main's result; 134 abort; -1 killed). */
  status: number | null;
  output: string;
}

export class Rig {
  readonly board: Board;
  readonly kernel: Kernel;
  readonly blk: VirtioBlk | null;
  private nextSlot: number;
  private readonly untypeds: number[] = [];
  private ut = 0;
  private readonly taskUntyped: number;
  private readonly byThread = new Map<Thread, Proc>();
  readonly procs: Proc[] = [];
  readonly bootInfo: (i: number) => number;
  /** Everything the programs printed, in order. */
  log = '';
  echo = false;

  constructor(opts: RigOptions) {
    this.blk = opts.disk !== undefined ? new VirtioBlk(opts.disk, opts.blk) : null;
    const devices: VirtioDevice[] = [...(this.blk !== null ? [this.blk] : []), ...(opts.nics ?? [])];
    this.board = new Board({ dramSize: opts.dramSize ?? 128 << 20, virtio: devices });
    this.kernel = new Kernel(this.board, { root: asm(IDLE_ROOT).elf }, {
      semihost: (t, x) => this.semihost(t, x),
    });
    // The kernel debug console (Sys.DebugPutc), where the drivers write their diagnostics
    // (user/drivers/util.ts log), goes to the writer's output and the log like console.log.
    this.kernel.debugSink = (b) => {
      const p = this.kernel.current === null ? undefined : this.byThread.get(this.kernel.current);
      if (p !== undefined) this.print(p, String.fromCharCode(b));
      else this.log += String.fromCharCode(b);
    };
    this.kernel.onThreadStopped((e) => {
      const p = this.byThread.get(e.thread);
      if (p !== undefined && p.status === null) {
        p.status = -1;
        this.print(p, `[${p.name} killed: ${e.why} pc=0x${e.pc.toString(16)} tval=0x${(e.tval >>> 0).toString(16)}]\n`);
      }
    });
    this.board.run(1000); // the root task stops at its wfi; the rig acts for it
    const pa = bootInfoPa(this.kernel);
    this.bootInfo = (i) => this.board.dram.readU32(pa + 4 * i);
    this.nextSlot = this.bootInfo(BootInfo.FirstFreeSlot);
    for (let i = 0; i < this.bootInfo(BootInfo.UntypedCount); i++) this.untypeds.push(this.bootInfo(BootInfo.UntypedFirst) + i);
    // The largest untyped pays for the tasks and their page tables.
    let best = 0;
    for (let i = 1; i < this.untypeds.length; i++) if (this.utPages(this.untypeds[i]) > this.utPages(this.untypeds[best])) best = i;
    this.taskUntyped = this.untypeds.splice(best, 1)[0];
  }

  private utPages(slot: number): number {
    return (this.kernel.rootTask.cspace[slot]!.obj as unknown as { pages: number }).pages;
  }

  private print(p: Proc, s: string): void {
    p.output += s;
    this.log += s;
    if (this.echo) process.stderr.write(s);
  }

  private semihost(t: Thread, x: Int32Array): SemihostAction {
    const p = this.byThread.get(t);
    if (p === undefined) return 'unhandled';
    const n = x[17];
    if (n === RtCall.Exit) {
      p.status = x[10];
      return 'stop';
    }
    if (n >= RtCall.ConsoleLog && n <= RtCall.ConsoleDebug) {
      this.print(p, `${this.readString(t.task!, x[10])}\n`);
      return 'resume';
    }
    if (n === RtCall.Abort) {
      p.status = 134;
      this.print(p, `${p.name}: abort: ${this.readString(t.task!, x[10])} at ${this.readString(t.task!, x[11])}:${x[12]}:${x[13]}\n`);
      return 'stop';
    }
    return 'unhandled';
  }

  private readString(task: Task, ptr: number): string {
    if (ptr === 0) return 'null';
    const len = this.kernel.readUserU32(task, ptr - 4);
    if (len === null) return '<bad string>';
    const b = this.kernel.readUser(task, ptr, Math.min(len, 4096));
    if (b === null) return '<bad string>';
    let s = '';
    for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b[i] | (b[i + 1] << 8));
    return s;
  }

  /** Invoke as the root; throws unless it succeeds. */
  invoke(slot: number, method: number, ...args: number[]): number[] {
    const { err, r } = this.kernel.invokeAs(this.kernel.rootThread, slot, method, ...args);
    if (err !== Err.Ok) throw new Error(`rig: invoke 0x${method.toString(16)} on slot ${slot}: ${errName(err)}`);
    return r;
  }

  /** A new object in a fresh root slot, from the first untyped with room. Tasks come from an
   *  untyped of their own, which also pays for their page tables (docs/KERNEL.md). */
  alloc(type: number, sizeBits = 0): number {
    const slot = this.nextSlot++;
    if (type === ObjType.Task) {
      const { err } = this.kernel.invokeAs(this.kernel.rootThread, this.taskUntyped, Method.UntypedRetype, type, 0, 1, slot);
      if (err !== Err.Ok) throw new Error(`rig: retype a task: ${errName(err)}`);
      return slot;
    }
    for (; this.ut < this.untypeds.length; this.ut++) {
      const { err } = this.kernel.invokeAs(this.kernel.rootThread, this.untypeds[this.ut], Method.UntypedRetype, type, sizeBits, 1, slot);
      if (err === Err.Ok) return slot;
      if (err !== Err.NoMemory) throw new Error(`rig: retype: ${errName(err)}`);
    }
    throw new Error('rig: out of untyped memory');
  }

  /** Physical address of a frame. */
  framePa(slot: number): number {
    return this.invoke(slot, Method.FrameInfo)[0] >>> 0;
  }

  /** A frame of 2^sizeBits pages. */
  frame(sizeBits = 0): { slot: number; pa: number; bytes: number } {
    const slot = this.alloc(ObjType.Frame, sizeBits);
    return { slot, pa: this.framePa(slot), bytes: PAGE_SIZE << sizeBits };
  }

  /** Write words into a frame (through physical memory: the rig is the root task). */
  writeWords(pa: number, words: readonly number[]): void {
    words.forEach((w, i) => this.board.dram.writeU32(pa + 4 * i, w >>> 0));
  }

  /**
   * A task running `elf`: fresh frames for its segments, 16 pages of stack, one thread at
   * priority `prio`, no pager and no exception handler (runtime calls go to the semihost hook).
   * Not started.
   */
  spawn(name: string, elf: Uint8Array, prio: number): Proc {
    const taskSlot = this.alloc(ObjType.Task);
    const threadSlot = this.alloc(ObjType.Thread);
    const image = parseElf32(elf);
    // One frame per segment (2^k pages, the root's capability space is finite), unless the
    // rounded-up frame would reach into another segment: then one frame per page.
    const ranges = image.segments.map((g) => [(g.vaddr & ~0xfff) >>> 0, g.vaddr + Math.max(g.memsz, 1)] as const);
    for (const seg of image.segments) {
      const rights = (seg.flags.r ? Rights.Read : 0) | (seg.flags.w ? Rights.Read | Rights.Write : 0) | (seg.flags.x ? Rights.Exec : 0);
      const first = (seg.vaddr & ~0xfff) >>> 0;
      const pages = Math.ceil((seg.vaddr + Math.max(seg.memsz, 1) - first) / PAGE_SIZE);
      const bits = Math.ceil(Math.log2(pages));
      const span = first + (PAGE_SIZE << bits);
      const clash = ranges.some(([lo, hi]) => lo !== first && lo < span && hi > first);
      const chunkBits = clash || bits > 10 ? 0 : bits;
      for (let va = first; va < first + pages * PAGE_SIZE; va += PAGE_SIZE << chunkBits) {
        const f = this.frame(chunkBits);
        const lo = Math.max(seg.vaddr, va);
        const hi = Math.min(seg.vaddr + seg.data.length, va + (PAGE_SIZE << chunkBits));
        if (hi > lo) this.board.dram.writeBytes(f.pa + (lo - va), seg.data.subarray(lo - seg.vaddr, hi - seg.vaddr));
        this.invoke(f.slot, Method.FrameMap, taskSlot, va, rights);
      }
    }
    const stack = this.frame(4);
    this.invoke(stack.slot, Method.FrameMap, taskSlot, STACK_TOP - 16 * PAGE_SIZE, Rights.Read | Rights.Write);
    this.invoke(threadSlot, Method.ThreadConfigure, taskSlot, UTCB_BASE, 0, 0);
    this.invoke(threadSlot, Method.ThreadSetRegs, image.entry, STACK_TOP, 0);
    this.invoke(threadSlot, Method.ThreadSetPriority, prio);
    const task = this.kernel.rootTask.cspace[taskSlot]!.obj as Task;
    const thread = this.kernel.rootTask.cspace[threadSlot]!.obj as Thread;
    const p: Proc = { name, taskSlot, threadSlot, task, thread, status: null, output: '' };
    this.give(p, taskSlot, CompSlot.Task, Rights.Read | Rights.Write); // its own task (CompSlot.Task)
    this.byThread.set(thread, p);
    this.procs.push(p);
    return p;
  }

  /** Copy (or mint, with a badge) root slot `slot` into `p`'s slot `dst`. */
  give(p: Proc, slot: number, dst: number, rights: number, badge = 0): void {
    if (badge !== 0) this.invoke(p.taskSlot, Method.CapMint, slot, dst, rights, badge);
    else this.invoke(p.taskSlot, Method.CapCopy, slot, dst, rights);
  }

  /** Map root frame `slot` into `p` at `va`. */
  mapInto(p: Proc, slot: number, va: number, rights: number): void {
    this.invoke(slot, Method.FrameMap, p.taskSlot, va, rights);
  }

  start(p: Proc): void {
    this.invoke(p.threadSlot, Method.ThreadResume);
  }

  /** Run until every process in `procs` has stopped; throws on budget or deadlock. */
  runUntilDone(procs: readonly Proc[], maxInsns = 2e9): void {
    const end = this.board.hart.instret + maxInsns;
    while (procs.some((p) => p.status === null)) {
      const left = end - this.board.hart.instret;
      if (left <= 0) throw new Error(`rig: instruction budget spent; waiting for ${procs.filter((p) => p.status === null).map((p) => p.name).join(', ')}\n${this.log}`);
      const r = this.board.run(Math.min(left, 5_000_000));
      if (r !== null && r.kind === 'idle' && procs.some((p) => p.status === null)) {
        throw new Error(`rig: system idle; still waiting for ${procs.filter((p) => p.status === null).map((p) => p.name).join(', ')}\n${this.log}`);
      }
    }
  }
}

// ---- the block system ---------------------------------------------------------------------------

export interface VbdSpec {
  /** First sector and size (sectors) of the virtual device on the disk. */
  base: number;
  sectors: number;
  writable: boolean;
  /** Data frame: 2^dataBits pages. */
  dataBits?: number;
  ring?: boolean;
  /** The client connects at run time (BLK_OP_CONNECT), handing the driver its data frame,
   *  notification and ring page by capability transfer; otherwise the rig gives them. */
  connect?: boolean;
  /** Client tasks sharing this virtual device (its badge and data frame). */
  tasks: ClientSpec[];
}

export interface ClientSpec {
  mode: number;
  ops?: number;
  qd?: number;
  seed?: number;
  blocks?: number;
  dataOff?: number;
  opKind?: number;
  /** Retry requests answered BLK_S_IOERR (CC_RETRY; integrity modes). */
  retry?: boolean;
}

export interface BlkSystem {
  rig: Rig;
  driver: Proc;
  clients: Proc[][];
  /** Per virtual device: data frame physical address. */
  dataPa: number[];
}

// Slots in the driver's and clients' capability spaces.
const D_EP = 16, D_IRQ = 17, D_IRQ_NTFN = 18, D_DMA = 19, D_PRIV = 20, D_MMIO = 21, D_CLIENT0 = 24;
const C_EP = 16, C_NTFN = 17;
export const DRIVER_PRIO = 150;
export const CLIENT_PRIO = 100;

/** Build (not start) the driver and the clients of `vbds` on `rig`. */
export async function buildBlkSystem(rig: Rig, vbds: VbdSpec[], driverFlags = 0): Promise<BlkSystem> {
  const [drvElf, cliElf] = await Promise.all([buildProgram('blk/main.ts'), buildProgram('blk/client.ts')]);
  if (vbds.length > P.MAX_CLIENTS) throw new Error('at most 7 virtual devices');
  const driver = rig.spawn('blk', drvElf, DRIVER_PRIO);
  const ep = rig.alloc(ObjType.Endpoint);
  const irqNtfn = rig.alloc(ObjType.Notification);
  const priv = rig.frame(Math.log2(P.PRIV_PAGES));
  const start = rig.frame();
  // The device's capabilities: virtio slot 0 = IOMMU device 0 = PLIC source 1.
  const ioFirst = rig.bootInfo(BootInfo.IoMemFirst);
  const mmioSlot = ioFirst + 2; // UART, test device, then virtio slots 0..7 (src/kernel/boot.ts)
  rig.give(driver, ep, D_EP, Rights.Read);
  rig.give(driver, rig.bootInfo(BootInfo.IrqFirst) + 0, D_IRQ, Rights.Write);
  rig.give(driver, irqNtfn, D_IRQ_NTFN, Rights.Read | Rights.Write);
  rig.give(driver, rig.bootInfo(BootInfo.DmaFirst) + 0, D_DMA, Rights.Write);
  rig.give(driver, priv.slot, D_PRIV, Rights.Read | Rights.Write);
  rig.give(driver, mmioSlot, D_MMIO, Rights.Read | Rights.Write);
  const cfg: number[] = new Array(P.CFG_CLIENTS + P.MAX_CLIENTS * P.CLIENT_WORDS).fill(0);
  cfg[P.CFG_MAGIC] = P.CFG_MAGIC_BLK;
  cfg[P.CFG_ENDPOINT] = D_EP;
  cfg[P.CFG_IRQ] = D_IRQ;
  cfg[P.CFG_IRQ_NTFN] = D_IRQ_NTFN;
  cfg[P.CFG_DMA] = D_DMA;
  cfg[P.CFG_PRIV_FRAME] = D_PRIV;
  cfg[P.CFG_MMIO] = D_MMIO;
  cfg[P.CFG_FLAGS] = driverFlags;
  cfg[P.CFG_NCLIENTS] = vbds.length;
  const clients: Proc[][] = [];
  const dataPa: number[] = [];
  vbds.forEach((v, i) => {
    const k = i + 1;
    const data = rig.frame(v.dataBits ?? 4);
    dataPa.push(data.pa);
    const ntfn = rig.alloc(ObjType.Notification);
    const ring = v.ring ? rig.frame() : null;
    const dSlot = D_CLIENT0 + 2 * i;
    const connect = v.connect === true;
    if (!connect) {
      rig.give(driver, data.slot, dSlot, Rights.Read | Rights.Write);
      rig.give(driver, ntfn, dSlot + 1, Rights.Write);
      if (ring !== null) rig.mapInto(driver, ring.slot, P.RINGS_VA + k * 4096, Rights.Read | Rights.Write);
    }
    const base = P.CFG_CLIENTS + i * P.CLIENT_WORDS;
    cfg[base + P.CL_FLAGS] = P.CLF_PRESENT | (v.writable ? P.CLF_WRITE : 0);
    cfg[base + P.CL_BASE] = v.base;
    cfg[base + P.CL_SECTORS] = v.sectors;
    cfg[base + P.CL_DATA_FRAME] = connect ? 0 : dSlot;
    cfg[base + P.CL_DATA_BYTES] = data.bytes;
    cfg[base + P.CL_NTFN] = dSlot + 1;
    cfg[base + P.CL_RING] = ring !== null ? 1 : 0;
    const procs: Proc[] = [];
    v.tasks.forEach((c, j) => {
      const p = rig.spawn(`client${k}${v.tasks.length > 1 ? `.${j}` : ''}`, cliElf, CLIENT_PRIO);
      rig.give(p, ep, C_EP, connect ? Rights.Write | Rights.Grant : Rights.Write, k);
      rig.give(p, ntfn, C_NTFN, connect ? Rights.Read | Rights.Write : Rights.Read);
      rig.mapInto(p, data.slot, P.DATA_VA, Rights.Read | Rights.Write);
      if (connect) {
        rig.give(p, data.slot, P.CLIENT_DATA_SLOT, Rights.Read | Rights.Write);
        if (ring !== null) rig.give(p, ring.slot, P.CLIENT_RING_SLOT, Rights.Read | Rights.Write);
      }
      if (ring !== null) rig.mapInto(p, ring.slot, P.RINGS_VA, Rights.Read | Rights.Write);
      const cs = rig.frame();
      const words: number[] = new Array(16).fill(0);
      words[P.CC_MAGIC] = P.CFG_MAGIC_CLIENT;
      words[P.CC_EP] = C_EP;
      words[P.CC_NTFN] = C_NTFN;
      words[P.CC_MODE] = c.mode;
      words[P.CC_OPS] = c.ops ?? 0;
      words[P.CC_QD] = c.qd ?? 1;
      words[P.CC_SEED] = c.seed ?? 1;
      words[P.CC_BLOCKS] = c.blocks ?? Math.min(4096, Math.floor(v.sectors / 8));
      words[P.CC_DATA_OFF] = c.dataOff ?? 0;
      words[P.CC_OPKIND] = c.opKind ?? P.BLK_OP_READ;
      words[P.CC_HAS_RING] = ring !== null ? 1 : 0;
      words[P.CC_CONNECT] = connect ? 1 : 0;
      words[P.CC_RETRY] = c.retry === true ? 1 : 0;
      rig.writeWords(cs.pa, words);
      rig.mapInto(p, cs.slot, P.START_VA, Rights.Read);
      procs.push(p);
    });
    clients.push(procs);
  });
  rig.writeWords(start.pa, cfg);
  rig.mapInto(driver, start.slot, P.START_VA, Rights.Read);
  return { rig, driver, clients, dataPa };
}

/** Start the driver, let it initialise, then start every client. */
export function startBlkSystem(s: BlkSystem): void {
  s.rig.start(s.driver);
  s.rig.board.run(2_000_000);
  if (s.driver.status !== null) throw new Error(`driver stopped during initialisation (status ${s.driver.status})\n${s.rig.log}`);
  for (const cs of s.clients) for (const c of cs) s.rig.start(c);
}

// ---- the data pattern of user/drivers/blk/client.ts, for checking the host image --------------

function xorshift(s: number): number {
  s ^= s << 13; s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5; s >>>= 0;
  return s;
}

function mix(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** The 4 KiB a client with `seed` writes to `block` as its `write`-th write. */
export function blockPattern(seed: number, block: number, write: number): Uint8Array {
  const out = new Uint8Array(4096);
  const v = new DataView(out.buffer);
  for (let j = 0; j < 1024; j++) {
    const x = (seed ^ Math.imul(block, 0x01000193) ^ Math.imul(write, 0x9e3779b1) ^ Math.imul(j, 0x85ebca6b)) >>> 0;
    v.setUint32(4 * j, mix(x), true);
  }
  return out;
}

/** Replay the integrity run's writes: block -> the number of its last write. */
export function integrityWrites(seed: number, ops: number, qd: number, blocks: number): Map<number, number> {
  let rng = seed === 0 ? 1 : seed >>> 0;
  const last = new Map<number, number>();
  let writes = 0;
  let done = 0;
  while (done < ops) {
    const n = Math.min(qd, ops - done);
    rng = xorshift(rng);
    const b0 = rng % blocks;
    for (let i = 0; i < n; i++) {
      const block = (b0 + i * P.BATCH_STRIDE) % blocks;
      writes++;
      last.set(block, writes);
    }
    done += n;
  }
  return last;
}

// ---- the network system ---------------------------------------------------------------------------

export interface NetClientSpec {
  mode: number;
  ops?: number;
  qd?: number;
  seed?: number;
  len?: number;
  /** The client's MAC (lo = bytes 0..3, hi = bytes 4..5, little endian) and its peer's. */
  mac: [number, number];
  peer?: [number, number];
  /** Benchmark mode (payload written once per buffer, spot-checked). */
  fast?: boolean;
  dataBits?: number;
  /** A 1 MiB frame nobody maps, just below the data frame (where the DRV_F_EVIL_DMA variant
   *  points its misdirected buffer, 1 MiB below): NetSystem.guards. */
  guardBelow?: boolean;
  /** The ping may lose frames (NC_LOSSY): device resets are survived, losses counted. */
  lossy?: boolean;
}

export interface NetSystem {
  driver: Proc;
  forwarder: Proc;
  clients: Proc[];
  /** Per client: data frame physical address. */
  dataPa: number[];
  /** The clients' guardBelow frames, in order. */
  guards: { pa: number; bytes: number }[];
}

/** MAC 02:00:00:00:<a>:<b> as (lo, hi) words. */
export function macWords(a: number, b: number): [number, number] {
  return [0x0000_0002, (a & 0xff) | ((b & 0xff) << 8)];
}

/** Build (not start) a network driver for virtio `slot`, its IRQ forwarder and its clients. */
export async function buildNetSystem(rig: Rig, slot: number, specs: NetClientSpec[], driverFlags = 0): Promise<NetSystem> {
  const [drvElf, cliElf] = await Promise.all([buildProgram('net/main.ts'), buildProgram('net/client.ts')]);
  const driver = rig.spawn(`net${slot}`, drvElf, DRIVER_PRIO);
  const forwarder = rig.spawn(`net${slot}-irq`, drvElf, DRIVER_PRIO + 10);
  const ep = rig.alloc(ObjType.Endpoint);
  const irqNtfn = rig.alloc(ObjType.Notification);
  const priv = rig.frame(Math.log2(P.NET_PRIV_PAGES));
  const mmioSlot = rig.bootInfo(BootInfo.IoMemFirst) + 2 + slot;
  rig.give(driver, ep, D_EP, Rights.Read);
  rig.give(driver, rig.bootInfo(BootInfo.IrqFirst) + slot, D_IRQ, Rights.Write);
  rig.give(driver, irqNtfn, D_IRQ_NTFN, Rights.Write);
  rig.give(driver, rig.bootInfo(BootInfo.DmaFirst) + slot, D_DMA, Rights.Write);
  rig.give(driver, priv.slot, D_PRIV, Rights.Read | Rights.Write);
  rig.give(driver, mmioSlot, D_MMIO, Rights.Read | Rights.Write);
  rig.give(forwarder, ep, D_EP, Rights.Write);
  rig.give(forwarder, irqNtfn, D_IRQ_NTFN, Rights.Read);
  const cfg: number[] = new Array(P.CFG_CLIENTS + P.MAX_CLIENTS * P.CLIENT_WORDS).fill(0);
  cfg[P.CFG_MAGIC] = P.CFG_MAGIC_BLK;
  cfg[P.CFG_ENDPOINT] = D_EP;
  cfg[P.CFG_IRQ] = D_IRQ;
  cfg[P.CFG_IRQ_NTFN] = D_IRQ_NTFN;
  cfg[P.CFG_DMA] = D_DMA;
  cfg[P.CFG_PRIV_FRAME] = D_PRIV;
  cfg[P.CFG_MMIO] = D_MMIO;
  cfg[P.CFG_FLAGS] = driverFlags;
  cfg[P.CFG_NCLIENTS] = specs.length;
  const fstart = rig.frame();
  rig.writeWords(fstart.pa, cfg.map((w, i) => (i === P.CFG_FLAGS ? P.NET_F_FORWARDER : w)));
  rig.mapInto(forwarder, fstart.slot, P.START_VA, Rights.Read);
  const clients: Proc[] = [];
  const dataPa: number[] = [];
  const guards: { pa: number; bytes: number }[] = [];
  specs.forEach((c, i) => {
    const k = i + 1;
    let data = rig.frame(c.dataBits ?? 6);
    if (c.guardBelow === true) {
      // Untyped memory is not one range: retry until the data frame follows the guard directly.
      for (let tries = 0; ; tries++) {
        const guard = rig.frame(8);
        data = rig.frame(c.dataBits ?? 6);
        if (data.pa === guard.pa + guard.bytes) { guards.push(guard); break; }
        if (tries === 8) throw new Error('rig: no room for a guard frame below a data frame');
      }
    }
    dataPa.push(data.pa);
    const ntfn = rig.alloc(ObjType.Notification);
    const ring = c.mode === P.NM_ECHO_RING || c.mode === P.NM_PING_RING || c.mode === P.NM_SPOOF;
    const dSlot = D_CLIENT0 + 2 * i;
    rig.give(driver, data.slot, dSlot, Rights.Read | Rights.Write);
    rig.give(driver, ntfn, dSlot + 1, Rights.Write);
    const base = P.CFG_CLIENTS + i * P.CLIENT_WORDS;
    cfg[base + P.CL_FLAGS] = P.CLF_PRESENT;
    cfg[base + P.NCL_MAC_LO] = c.mac[0];
    cfg[base + P.NCL_MAC_HI] = c.mac[1];
    cfg[base + P.CL_DATA_FRAME] = dSlot;
    cfg[base + P.CL_DATA_BYTES] = data.bytes;
    cfg[base + P.CL_NTFN] = dSlot + 1;
    cfg[base + P.CL_RING] = ring ? 1 : 0;
    const p = rig.spawn(`${c.mode === P.NM_ECHO_SYNC || c.mode === P.NM_ECHO_RING ? 'echo' : 'ping'}${slot}.${k}`, cliElf, CLIENT_PRIO);
    rig.give(p, ep, C_EP, Rights.Write, k);
    rig.give(p, ntfn, C_NTFN, Rights.Read);
    rig.mapInto(p, data.slot, P.DATA_VA, Rights.Read | Rights.Write);
    if (ring) {
      const tx = rig.frame();
      const rx = rig.frame();
      rig.mapInto(driver, tx.slot, P.RINGS_VA + k * 0x2000, Rights.Read | Rights.Write);
      rig.mapInto(driver, rx.slot, P.RINGS_VA + k * 0x2000 + 0x1000, Rights.Read | Rights.Write);
      rig.mapInto(p, tx.slot, P.RINGS_VA, Rights.Read | Rights.Write);
      rig.mapInto(p, rx.slot, P.NET_RX_RING_VA, Rights.Read | Rights.Write);
    }
    const cs = rig.frame();
    const words: number[] = new Array(16).fill(0);
    words[P.CC_MAGIC] = P.CFG_MAGIC_CLIENT;
    words[P.CC_EP] = C_EP;
    words[P.CC_NTFN] = C_NTFN;
    words[P.CC_MODE] = c.mode;
    words[P.CC_OPS] = c.ops ?? 0;
    words[P.CC_QD] = c.qd ?? 1;
    words[P.CC_SEED] = c.seed ?? 1;
    words[P.NC_PEER_LO] = c.peer?.[0] ?? 0;
    words[P.NC_PEER_HI] = c.peer?.[1] ?? 0;
    words[P.NC_LEN] = c.len ?? 1500;
    words[P.NC_FAST] = c.fast === true ? 1 : 0;
    words[P.NC_LOSSY] = c.lossy === true ? 1 : 0;
    rig.writeWords(cs.pa, words);
    rig.mapInto(p, cs.slot, P.START_VA, Rights.Read);
    clients.push(p);
  });
  const start = rig.frame();
  rig.writeWords(start.pa, cfg);
  rig.mapInto(driver, start.slot, P.START_VA, Rights.Read);
  return { driver, forwarder, clients, dataPa, guards };
}

/** Start drivers (and forwarders), let them initialise, then start the clients. */
export function startNetSystems(rig: Rig, systems: NetSystem[]): void {
  for (const s of systems) { rig.start(s.driver); rig.start(s.forwarder); }
  rig.board.run(2_000_000);
  for (const s of systems) if (s.driver.status !== null) throw new Error(`net driver stopped during initialisation (status ${s.driver.status})\n${rig.log}`);
  for (const s of systems) for (const c of s.clients) rig.start(c);
}
