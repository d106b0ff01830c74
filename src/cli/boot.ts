// `l4ts boot [manifest] [--disk FILE] [--trace FILE] [--caps[=boot]] [--max-insns N] [--eager] [--base DIR]`
// (and `npm start`). The board: disk k (--disk, repeatable) in virtio slot k, and a virtio-net NIC
// in every other virtio slot the manifest expects a "net" device in, all on one VirtualSwitch,
// MAC 52:54:00:12:34:<slot> (nicMac).
// validate the manifest, build the component images (AssemblyScript -> ELF, cached by source
// hash under build/boot-cache/), encode the boot plan, boot the kernel with the root task and
// the modules [plan, component ELFs...], and run. The UART is stdout (and stdin); the kernel's
// debug console (Sys.DebugPutc) and the runtime calls of threads without an exception handler
// (semihosting: console.log, abort, exit) go to stderr, prefixed with the component's name.
//
// --caps: boot, let the system settle (run until every thread waits for something nothing
// will raise — the default system idles once hello has exited — or until --max-insns, by
// default 200 M instructions), then print the live capability distribution from the kernel's
// state (src/kernel/debug.ts capDistribution) in formatCapLine form, sorted, frames retyped
// from a component's quota merged per holder (`Frame(quota:C, <n> pages)`). It is checked
// against what the manifest grants and permits to arise at run time (src/manifest/caps.ts
// checkCapabilities): every line the manifest does not explain, and every grant missing, is
// reported on stderr (`l4ts: caps: unexplained: <line>`), and the exit code is then 1.
// --caps=boot prints instead the distribution the root task handed out, the moment it has
// finished building the system (before any component runs): formatCaps(expectedCapabilities).
//
// Image paths in the manifest are relative to --base DIR, by default the project root for a
// manifest in a `manifests/` directory and the manifest's own directory otherwise.
//
// Images are paged in by the memory manager from the image frames the root task gives it (the
// root task loads only the memory manager); --eager makes the root task load every image
// itself (the fallback for a memory manager that does not page images in).
//
// The last line on stderr is `l4ts: exit=<code> insns=<n> seconds=<s> mips=<m> virtual_ms=<ms>`.

import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Board } from '../machine/board.ts';
import { FileBackend } from '../machine/virtio/blk-file.ts';
import { VirtioBlk } from '../machine/virtio/blk.ts';
import { VirtioNet } from '../machine/virtio/net.ts';
import { VirtualSwitch } from '../machine/virtio/switch.ts';
import type { VirtioDevice } from '../machine/virtio/mmio.ts';
import { parseElf32, ElfError } from '../abi/elf.ts';
import { Kernel, type SemihostAction } from '../kernel/kernel.ts';
import { BootError } from '../kernel/boot.ts';
import type { Thread } from '../kernel/objects/thread.ts';
import { TS_BLOCKED_NTFN, TS_INACTIVE } from '../kernel/objects/thread.ts';
import { capDistribution, debugNameOf } from '../kernel/debug.ts';
import { parseManifest, ManifestError } from '../manifest/validate.ts';
import type { Manifest } from '../manifest/types.ts';
import { encodeBootPlan, BootPlanError, type BootPlanOptions } from '../manifest/bootplan.ts';
import { checkCapabilities, formatCaps, type CapCheck, type ObservedCap } from '../manifest/caps.ts';
import { serveRuntimeCall, hex } from '../toolchain/wasm2rv/rt-host.ts';
import { HostConsole } from './host-console.ts';
import { intOption, parseArgs, UsageError } from './args.ts';
import { TRACE_CAPACITY, writeKernelTrace } from './trace-file.ts';
import { taskMemory, threadCpu } from './run-kernel.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_MANIFEST = join(PROJECT_ROOT, 'manifests', 'default.json');
const L4TS_BIN = join(PROJECT_ROOT, 'bin', 'l4ts.js');

/** Pages of linear memory mapped for the root task beyond its image (BootInfo.LinearPages). */
const ROOT_LINEAR_PAGES = 256;

// ------------------------------------------------------------------------------------------------
// Manifest
// ------------------------------------------------------------------------------------------------

/** The base directory image paths are relative to: the project root for a manifest in a
 *  `manifests/` directory, else the manifest's own directory. */
export function manifestBaseDir(path: string): string {
  const dir = dirname(resolve(path));
  return basename(dir) === 'manifests' ? dirname(dir) : dir;
}

export function loadManifest(path: string, virtio: ('blk' | 'net' | null)[] | null = null, baseDir = manifestBaseDir(path)): Manifest {
  const text = readFileSync(path, 'utf8');
  return parseManifest(text, { baseDir, board: virtio === null ? {} : { virtio } });
}

/** The virtio slots in which manifest `m` expects a network device (`expect: "net"`), sorted. */
export function netSlots(m: Manifest): number[] {
  const slots = new Set<number>();
  for (const c of m.components) {
    if (c.role === 'root') continue;
    for (const d of c.devices) if (d.kind === 'virtio' && d.expect === 'net') slots.add(d.slot);
  }
  return [...slots].sort((a, b) => a - b);
}

/** The MAC address of the board's NIC in virtio slot `slot`: 52:54:00:12:34:<slot>. (The drivers
 *  do not use it: their clients own the addresses the manifest gives them, netDevices.) */
export function nicMac(slot: number): string {
  return `52:54:00:12:34:${slot.toString(16).padStart(2, '0')}`;
}

/** A virtio-net NIC in each of `slots`, all on one new VirtualSwitch. */
export function boardNics(slots: readonly number[]): { nics: Map<number, VirtioNet>; sw: VirtualSwitch } {
  const sw = new VirtualSwitch();
  return { nics: new Map(slots.map((s) => [s, new VirtioNet({ mac: nicMac(s), network: sw })])), sw };
}

/** The board `l4ts boot` builds for manifest file `path` with `disks` disk images: disk k in
 *  virtio slot k, and a virtio-net NIC in every other slot the manifest expects "net" in (all on
 *  one switch). Returns the slot kinds, for validating the manifest against this board: a slot
 *  both a disk and a "net" device is refused by the validator (`holds a blk device, not ...`). */
export function bootBoardKinds(path: string, disks: number, baseDir?: string): ('blk' | 'net' | null)[] {
  const kinds: ('blk' | 'net' | null)[] = Array.from({ length: 8 }, (_, i) => (i < disks ? 'blk' : null));
  // Contents unknown for the first look: it only reads which slots the manifest expects "net" in.
  for (const s of netSlots(loadManifest(path, null, baseDir))) if (s < kinds.length && kinds[s] === null) kinds[s] = 'net';
  return kinds;
}

// ------------------------------------------------------------------------------------------------
// Images, cached by source hash
// ------------------------------------------------------------------------------------------------

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (name !== 'node_modules' && name !== 'fuzz-corpus') out.push(...tsFiles(p));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      out.push(p);
    }
  }
  return out;
}

let toolHash: string | null = null;
/** Hash of what every build depends on: the compiler (wasm2rv, src/abi) and asc. */
function toolchainHash(): string {
  if (toolHash !== null) return toolHash;
  const h = createHash('sha256');
  const files = [...tsFiles(join(PROJECT_ROOT, 'src', 'toolchain', 'wasm2rv')), ...tsFiles(join(PROJECT_ROOT, 'src', 'abi'))];
  for (const f of files) h.update(relative(PROJECT_ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  try {
    h.update(readFileSync(join(PROJECT_ROOT, 'node_modules', 'assemblyscript', 'package.json')));
  } catch { /* no asc: the build will say so */ }
  toolHash = h.digest('hex');
  return toolHash;
}

/** The AssemblyScript sources `file` imports, transitively (relative imports only), itself
 *  included, sorted. */
export function sourceClosure(file: string): string[] {
  const seen = new Set<string>();
  const visit = (f: string): void => {
    if (seen.has(f) || !existsSync(f)) return;
    seen.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*["'](\.{1,2}\/[^"']+)["']/g)) {
      const target = resolve(dirname(f), m[1]);
      visit(target.endsWith('.ts') ? target : `${target}.ts`);
    }
  };
  visit(resolve(file));
  return [...seen].sort();
}

/** The cache key of an AssemblyScript program: the sources it imports and the toolchain. */
export function imageKey(file: string): string {
  const h = createHash('sha256').update(toolchainHash());
  for (const f of sourceClosure(file)) h.update(relative(PROJECT_ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 24);
}

function buildInChild(src: string, out: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, [L4TS_BIN, 'build', src, '--o', out], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err !== null) reject(new Error(stderr.trim() || err.message));
      else resolvePromise();
    });
  });
}

export interface BuildLog {
  (line: string): void;
}

/** Build (or take from the cache) the ELF of every component, in manifest order. */
export async function buildImages(m: Manifest, cacheDir = join(PROJECT_ROOT, 'build', 'boot-cache'), log: BuildLog = () => {}): Promise<Uint8Array[]> {
  mkdirSync(cacheDir, { recursive: true });
  const jobs: { i: number; src: string; out: string }[] = [];
  const paths: string[] = m.components.map((c, i) => {
    if (c.image.kind === 'elf') return c.image.file;
    const out = join(cacheDir, `${basename(dirname(c.image.file))}-${basename(c.image.file, '.ts')}-${imageKey(c.image.file)}.elf`);
    if (!existsSync(out) && !jobs.some((j) => j.out === out)) jobs.push({ i, src: c.image.file, out });
    return out;
  });
  const width = Math.max(1, Math.min(jobs.length, cpus().length));
  let next = 0;
  const errors: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const j = jobs[next++];
      const t0 = performance.now();
      const tmp = `${j.out}.${process.pid}.tmp`;
      try {
        await buildInChild(j.src, tmp);
        renameSync(tmp, j.out);
        log(`built ${relative(PROJECT_ROOT, j.src)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (e) {
        errors.push(`${m.components[j.i].name}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  if (errors.length > 0) throw new Error(`build failed:\n${errors.join('\n')}`);
  return paths.map((p) => new Uint8Array(readFileSync(p)));
}

// ------------------------------------------------------------------------------------------------
// Booting
// ------------------------------------------------------------------------------------------------

export interface BootedSystem {
  board: Board;
  kernel: Kernel;
  manifest: Manifest;
  /** The root task has built the system and waits on its last notification. */
  rootDone(): boolean;
}

export interface BootSystemOptions extends BootPlanOptions {
  /** Virtio devices of the board, by slot (an empty slot: a hole or undefined). */
  virtio?: (VirtioDevice | undefined)[];
  /** Semihosted output (console.log, abort, exits, kills) and DebugPutc, one line at a time. */
  diag?: (text: string) => void;
  traceCapacity?: number;
}

/** Boot the kernel with the root task (component `root`'s image) and the modules: the plan,
 *  then every other component's ELF in manifest order. */
export function bootSystem(m: Manifest, images: readonly Uint8Array[], opts: BootSystemOptions = {}): BootedSystem {
  const rootIndex = m.components.findIndex((c) => c.role === 'root');
  const modules: { name: string; bytes: Uint8Array }[] = [];
  const planImages = m.components.map((c, i) => {
    if (i === rootIndex) return null;
    const elf = parseElf32(images[i]);
    modules.push({ name: c.name, bytes: images[i] });
    return { module: modules.length, size: images[i].length, entry: elf.entry };
  });
  const plan = encodeBootPlan(m, planImages, opts);
  const board = new Board({ virtio: (opts.virtio ?? []) as VirtioDevice[] });
  const kernel = new Kernel(board, {
    root: images[rootIndex],
    modules: [{ name: 'bootplan', bytes: plan.bytes }, ...modules],
    linearPages: ROOT_LINEAR_PAGES,
  }, { traceCapacity: opts.traceCapacity });
  if (opts.traceCapacity !== undefined) kernel.trace.enabled = true;

  const diag = opts.diag ?? (() => {});
  const nameOf = (t: Thread): string => (t.task !== null ? debugNameOf(t.task) : null) ?? (t === kernel.rootThread ? 'root' : `thread ${t.id}`);
  const lineBuf = new Map<string, string>();
  const emit = (who: string, s: string): void => {
    let buf = (lineBuf.get(who) ?? '') + s;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      diag(`[${who}] ${buf.slice(0, nl)}\n`);
      buf = buf.slice(nl + 1);
    }
    lineBuf.set(who, buf);
  };
  kernel.semihost = (t: Thread, x: Int32Array): SemihostAction => {
    if (t.task === null) return 'unhandled';
    const who = nameOf(t);
    const r = serveRuntimeCall(x[17], threadCpu(kernel, t, x), taskMemory(kernel, t.task), { print: (s) => emit(who, s), seed: 42 });
    if (r === null) return 'unhandled';
    switch (r.kind) {
      case 'continue': return 'resume';
      case 'exit': diag(`[${who}] exit ${r.status}\n`); return 'stop';
      case 'abort': diag(`[${who}] abort: ${r.message}\n`); return 'stop';
      default: return 'stop';
    }
  };
  kernel.onThreadStopped((e) => {
    if (e.reason !== 'killed') return;
    if (e.why === 'exception handler') diag(`[${nameOf(e.thread)}] stopped by its exception handler\n`);
    else diag(`[${nameOf(e.thread)}] killed: ${e.why} (cause ${e.cause}, pc ${hex(e.pc)}, tval ${hex(e.tval)})\n`);
  });
  kernel.debugSink = (b) => emit(nameOf(kernel.current ?? kernel.rootThread), String.fromCharCode(b));
  return {
    board, kernel, manifest: m,
    rootDone: () => kernel.rootThread.state === TS_BLOCKED_NTFN,
  };
}

/** Run until the root task has built the system and waits on its last notification (or
 *  `maxInsns`), stopping at that very instruction: the components, which have lower
 *  priorities, have not run yet. Returns whether the root task got there. */
export function runUntilRootDone(sys: BootedSystem, maxInsns: number): boolean {
  const board = sys.board;
  const end = board.hart.instret + maxInsns;
  const root = sys.kernel.rootThread;
  // In slices while the root task works; once it writes to the debug console (its last
  // words come right before its final Recv) the slice ends there, and the rest goes one
  // instruction at a time.
  let announced = false;
  const sink = sys.kernel.debugSink;
  sys.kernel.debugSink = (b) => {
    if (!announced && sys.kernel.current === root) {
      announced = true;
      board.hart.halted = true; // leave board.run after this system call
    }
    sink?.(b);
  };
  try {
    while (board.hart.instret < end) {
      if (sys.rootDone()) return true;
      if (root.state === TS_INACTIVE) return false;
      const r = board.run(announced ? 1 : Math.min(20_000, end - board.hart.instret));
      if (announced && board.hart.halted && r === null) {
        board.hart.halted = false;
        continue;
      }
      if (r !== null && r.kind !== 'budget') break;
    }
  } finally {
    sys.kernel.debugSink = sink;
  }
  return sys.rootDone();
}

/** The live capability distribution as the kernel reports it (the root task left out). */
export function observedCaps(sys: BootedSystem): ObservedCap[] {
  const root = sys.manifest.components.find((c) => c.role === 'root')?.name ?? 'root';
  return capDistribution(sys.kernel, (h) => h === root);
}

/** The live capability distribution, one line per capability, sorted (what --caps prints). */
export function liveCaps(sys: BootedSystem): string {
  return formatCaps(checkCapabilities(sys.manifest, observedCaps(sys)).lines);
}

/** The live distribution checked against what the manifest grants and permits. */
export function checkLiveCaps(sys: BootedSystem): CapCheck {
  return checkCapabilities(sys.manifest, observedCaps(sys));
}

/** Let the system settle: run until it idles (every thread waits for something nothing will
 *  raise), exits, or `maxInsns` more instructions. Returns how it ended. */
export function runUntilSettled(sys: BootedSystem, maxInsns: number): 'idle' | 'exit' | 'budget' | 'halted' {
  const board = sys.board;
  const end = board.hart.instret + maxInsns;
  while (board.hart.instret < end) {
    const r = board.run(Math.min(end - board.hart.instret, 20_000_000));
    if (r !== null && r.kind === 'idle') return 'idle';
    if (r !== null && (r.kind === 'exit' || r.kind === 'reset')) return 'exit';
    if (board.hart.halted) return 'halted';
  }
  return 'budget';
}

// ------------------------------------------------------------------------------------------------
// The command
// ------------------------------------------------------------------------------------------------

export async function bootCommand(argv: string[]): Promise<number> {
  // --caps (= --caps=settled) and --caps=boot: the flag parser takes no values for flags.
  let capsAt: 'settled' | 'boot' | null = null;
  const rest: string[] = [];
  for (const a of argv) {
    const m = /^--caps(?:=(.*))?$/.exec(a);
    if (m === null) {
      rest.push(a);
      continue;
    }
    if (capsAt !== null) throw new UsageError('option --caps given twice');
    if (m[1] !== undefined && m[1] !== 'settled' && m[1] !== 'boot') throw new UsageError(`option --caps: '${m[1]}' is not settled or boot`);
    capsAt = m[1] === 'boot' ? 'boot' : 'settled';
  }
  const args = parseArgs(rest, {
    disk: { value: true, repeat: true }, trace: { value: true },
    'max-insns': { value: true }, eager: { value: false }, base: { value: true },
  });
  if (args.positionals.length > 1) throw new UsageError('boot takes at most one manifest');
  const path = args.positionals[0] ?? DEFAULT_MANIFEST;
  const caps = capsAt !== null;
  const maxInsns = intOption(args, 'max-insns', capsAt === 'boot' ? 2_000_000_000 : capsAt === 'settled' ? 200_000_000 : Number.MAX_SAFE_INTEGER);
  const diskPaths = args.options.get('disk') ?? [];
  let virtioKinds: ('blk' | 'net' | null)[] = [];

  let m: Manifest;
  try {
    const base = args.options.get('base')?.[0];
    virtioKinds = bootBoardKinds(path, diskPaths.length, base === undefined ? undefined : resolve(base));
    m = loadManifest(path, virtioKinds, base === undefined ? undefined : resolve(base));
  } catch (e) {
    if (e instanceof ManifestError) {
      const where = e.pos !== null && e.pos !== undefined ? `${path}:${e.pos.line}:${e.pos.column}: ` : `${path}: `;
      process.stderr.write(`l4ts: ${where}${e.message}\n`);
      return 2;
    }
    process.stderr.write(`l4ts: ${path}: ${(e as Error).message}\n`);
    return 2;
  }

  let virtio: (VirtioDevice | undefined)[];
  try {
    virtio = diskPaths.map((p) => new VirtioBlk(FileBackend.open(p)));
  } catch (e) {
    process.stderr.write(`l4ts: ${(e as Error).message}\n`);
    return 2;
  }
  const { nics } = boardNics(virtioKinds.flatMap((k, s) => (k === 'net' ? [s] : [])));
  for (const [s, nic] of nics) virtio[s] = nic;

  let images: Uint8Array[];
  try {
    images = await buildImages(m, undefined, (l) => process.stderr.write(`l4ts: ${l}\n`));
  } catch (e) {
    process.stderr.write(`l4ts: ${(e as Error).message}\n`);
    return 1;
  }

  const trace = args.options.get('trace')?.[0];
  let sys: BootedSystem;
  try {
    sys = bootSystem(m, images, {
      virtio,
      eager: args.options.has('eager') ? 'all' : 'memory-manager',
      diag: (s) => process.stderr.write(s),
      traceCapacity: trace !== undefined ? TRACE_CAPACITY : undefined,
    });
  } catch (e) {
    if (e instanceof BootPlanError || e instanceof BootError || e instanceof ElfError) {
      process.stderr.write(`l4ts: ${path}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
  const t0 = performance.now();
  let code = 0;
  if (caps) {
    if (!runUntilRootDone(sys, maxInsns)) {
      process.stderr.write(`l4ts: the root task did not finish building the system (${sys.kernel.lastKill || 'budget'})\n`);
      code = 1;
    } else if (capsAt === 'boot') {
      process.stdout.write(liveCaps(sys));
    } else {
      const how = runUntilSettled(sys, maxInsns - sys.board.hart.instret);
      if (how === 'budget') process.stderr.write(`l4ts: caps: the system did not idle within --max-insns ${maxInsns}; the distribution is that of the last instruction\n`);
      const check = checkLiveCaps(sys);
      process.stdout.write(formatCaps(check.lines));
      for (const l of check.unexplained) process.stderr.write(`l4ts: caps: unexplained: ${l}\n`);
      for (const l of check.missing) process.stderr.write(`l4ts: caps: missing: ${l}\n`);
      if (check.unexplained.length > 0 || check.missing.length > 0) code = 1;
    }
  } else {
    code = await runInteractive(sys, maxInsns);
  }
  if (trace !== undefined) {
    const n = writeKernelTrace(sys.kernel, trace);
    process.stderr.write(`l4ts: wrote ${n} trace events to ${trace}\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const insns = sys.board.hart.instret;
  process.stderr.write(`l4ts: exit=${code} insns=${insns} seconds=${seconds.toFixed(3)} mips=${(seconds > 0 ? insns / seconds / 1e6 : 0).toFixed(1)} virtual_ms=${(sys.board.clock.nanos() / 1e6).toFixed(1)}\n`);
  return code;
}

/** Run with the UART on the terminal until the system powers off (test device), idles with no
 *  more input possible, or the budget ends. Idle with the input closed is a normal end (0). */
async function runInteractive(sys: BootedSystem, maxInsns: number): Promise<number> {
  const board = sys.board;
  const stdin = process.stdin.isTTY ? process.stdin : null;
  const console = new HostConsole(board, stdin);
  try {
    const end = board.hart.instret + maxInsns;
    for (;;) {
      const r = board.run(Math.min(end - board.hart.instret, 20_000_000));
      if (r !== null && r.kind === 'exit') return r.code;
      if (r !== null && r.kind === 'reset') return 126;
      if (board.hart.halted) return 0;
      if (board.hart.instret >= end) {
        process.stderr.write(`l4ts: stopped after --max-insns ${maxInsns} instructions\n`);
        return 124;
      }
      if (r !== null && r.kind === 'idle') {
        if (!console.inputOpen) return 0;
        console.flush();
        await console.waitForInput();
        continue;
      }
      console.flush();
      await new Promise((res) => setImmediate(res));
    }
  } finally {
    console.close();
  }
}
