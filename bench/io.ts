// `npm run bench -- io [--runs N] [--ops N] [--qd 1,4,16,64] [--dev blk,net] [--cold-disk]`: the
// user-level block driver through its two interfaces (docs/DRIVERS.md), synchronous IPC
// against Xen-style shared rings.
//
// For 4 KiB random reads and writes at each queue depth: requests per second of host CPU time,
// kernel entries (system calls + interrupts + faults) and context switches per request, and
// virtual time per request. Synchronous queue depth n = n client tasks sharing one virtual
// device, each making blocking calls; ring queue depth n = one client keeping n requests on its
// ring. Network: 1,500-byte frames round-tripped through an echo service on a second NIC
// (one request = one round trip). Median of N runs (default 5; 4096 block requests or 1024
// round trips each) after a warm-up of every path. Last line: JSON.
//
// The in-memory disk is made resident (every page touched) before the clock starts, as the
// warm-up settles the JIT: a fresh 32 MiB buffer is backed lazily by the host OS, and the
// first touch of each page (a host page fault, 4–8 µs here) would otherwise fall on whichever
// request first reads or writes that block. `--cold-disk` measures without it.

import { MemoryBackend } from '../src/machine/virtio/blk-backend.ts';
import * as P from '../user/lib/io-proto.ts';
import { VirtioNet } from '../src/machine/virtio/net.ts';
import { VirtualSwitch } from '../src/machine/virtio/switch.ts';
import { Rig, buildBlkSystem, startBlkSystem, buildProgram, buildNetSystem, startNetSystems, macWords } from '../tests/io/rig.ts';
import { median, round } from './stats.ts';

interface Sample {
  /** Requests per second of the process's CPU time (user + system, all threads). */
  rps: number;
  /** Requests per second of wall-clock time. */
  rpsWall: number;
  entries: number;
  switches: number;
  vus: number;
  irqs: number;
  insns: number;
}

const DISK_BYTES = 32 << 20;

/** A full collection before the clock starts, when node runs with --expose-gc (`npm run bench`
 *  does): each run builds a fresh 256 MiB board, and the previous runs' boards would otherwise
 *  be collected during whichever run came next. */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** CPU seconds (user + system, every thread of this process) since `from`. Requests per second
 *  are of CPU time, not wall-clock time: on a machine shared with other work, time spent
 *  waiting for a core is not the system's cost (wall-clock rates are in the JSON as rps_wall). */
function cpuSeconds(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}
let coldDisk = false;

/** A fresh in-memory disk, resident unless --cold-disk (see the file comment). */
function disk(): MemoryBackend {
  const d = new MemoryBackend(DISK_BYTES);
  if (!coldDisk) for (let off = 0; off < DISK_BYTES; off += 4096) d.data[off] = 0;
  return d;
}

async function once(iface: 'sync' | 'ring', op: number, qd: number, ops: number, seed: number): Promise<Sample> {
  const rig = new Rig({ disk: disk(), dramSize: 256 << 20 });
  const sectors = DISK_BYTES / 512;
  const tasks = iface === 'sync'
    ? Array.from({ length: qd }, (_, i) => ({ mode: P.CM_SYNC_BENCH, ops: Math.ceil(ops / qd), seed: seed + i, blocks: sectors / 8, dataOff: i * 4096, opKind: op }))
    : [{ mode: P.CM_RING_BENCH, ops, qd, seed, blocks: sectors / 8, opKind: op }];
  const s = await buildBlkSystem(rig, [{ base: 0, sectors, writable: true, ring: iface === 'ring', dataBits: 6, tasks }]);
  startBlkSystem(s);
  const k = rig.kernel.stats;
  const k0 = { ...k };
  const c0 = rig.board.clock.cycles;
  const i0 = rig.board.hart.instret;
  collectGarbage();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const procs = s.clients.flat();
  rig.runUntilDone(procs, 4e9);
  const t = (performance.now() - t0) / 1000;
  const u = cpuSeconds(u0);
  const bad = procs.filter((p) => p.status !== 0);
  if (bad.length > 0) throw new Error(`bench io: ${bad.map((p) => `${p.name} ended with ${p.status}`).join(', ')}\n${rig.log}`);
  const n = iface === 'sync' ? Math.ceil(ops / qd) * qd : ops;
  // Each client's exit is one runtime call (an ecall): not part of the I/O.
  const syscalls = k.syscalls - k0.syscalls - procs.length;
  const entries = syscalls + (k.irqs - k0.irqs) + (k.timerIrqs - k0.timerIrqs) + (k.faults - k0.faults);
  return {
    rps: n / u,
    rpsWall: n / t,
    entries: entries / n,
    switches: (k.switches - k0.switches) / n,
    vus: (rig.board.clock.cycles - c0) / n / (rig.board.clock.cpuHz / 1e6),
    irqs: (k.irqs - k0.irqs) / n,
    insns: (rig.board.hart.instret - i0) / n,
  };
}

/** Network: `ops` 1,500-byte frames from a ping client on NIC 0 to an echo service on NIC 1 and
 *  back (one request = one round trip = four frame hops through the two drivers). */
async function onceNet(iface: 'sync' | 'ring', qd: number, ops: number, seed: number): Promise<Sample> {
  const sw = new VirtualSwitch();
  const nics = [new VirtioNet({ mac: '52:54:00:00:00:01', network: sw }), new VirtioNet({ mac: '52:54:00:00:00:02', network: sw })];
  const rig = new Rig({ nics, dramSize: 256 << 20 });
  const a = macWords(0, 1), b = macWords(1, 1);
  const ring = iface === 'ring';
  const s0 = await buildNetSystem(rig, 0, [{ mode: ring ? P.NM_PING_RING : P.NM_PING_SYNC, ops, qd, mac: a, peer: b, len: 1500, seed, fast: true }]);
  const s1 = await buildNetSystem(rig, 1, [{ mode: ring ? P.NM_ECHO_RING : P.NM_ECHO_SYNC, qd, mac: b }]);
  startNetSystems(rig, [s0, s1]);
  collectGarbage();
  const k = rig.kernel.stats;
  const k0 = { ...k };
  const c0 = rig.board.clock.cycles;
  const i0 = rig.board.hart.instret;
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  rig.runUntilDone(s0.clients, 4e9);
  const t = (performance.now() - t0) / 1000;
  const u = cpuSeconds(u0);
  const bad = s0.clients.filter((p) => p.status !== 0);
  if (bad.length > 0) throw new Error(`bench io: ${bad.map((p) => `${p.name} ended with ${p.status}`).join(', ')}\n${rig.log}`);
  const syscalls = k.syscalls - k0.syscalls - s0.clients.length;
  const entries = syscalls + (k.irqs - k0.irqs) + (k.timerIrqs - k0.timerIrqs) + (k.faults - k0.faults);
  return {
    rps: ops / u,
    rpsWall: ops / t,
    entries: entries / ops,
    switches: (k.switches - k0.switches) / ops,
    vus: (rig.board.clock.cycles - c0) / ops / (rig.board.clock.cpuHz / 1e6),
    irqs: (k.irqs - k0.irqs) / ops,
    insns: (rig.board.hart.instret - i0) / ops,
  };
}

export async function main(argv: string[]): Promise<void> {
  const opt = (name: string, def: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
  };
  const runs = Number(opt('runs', '5'));
  const ops = Number(opt('ops', '4096'));
  const qds = opt('qd', '1,4,16,64').split(',').map(Number);
  const devices = opt('dev', 'blk,net').split(',');
  coldDisk = argv.includes('--cold-disk');
  await Promise.all(['blk/main.ts', 'blk/client.ts', 'net/main.ts', 'net/client.ts'].map((f) => buildProgram(f)));
  // Warm-up: every code path once at full length, so that the JIT has settled before measuring.
  for (const iface of ['sync', 'ring'] as const) {
    if (devices.includes('blk')) for (const op of [P.BLK_OP_READ, P.BLK_OP_WRITE]) await once(iface, op, 4, ops, 1);
    if (devices.includes('net')) await onceNet(iface, 4, Math.max(256, ops >> 2), 1);
  }
  const rows: Record<string, number | string>[] = [];
  process.stdout.write('io: user-level virtio drivers, sync IPC vs shared rings: blk = 4 KiB random requests,\n');
  process.stdout.write('net = 1,500-byte frames round-tripped through an echo service on a second NIC\n');
  process.stdout.write(`(median of ${runs} runs, ${ops} requests per run${coldDisk ? ', cold disk' : ''})\n\n`);
  process.stdout.write('| device | op | interface | QD | requests/s (host CPU time) | kernel entries/req | switches/req | interrupts/req | user insns/req | virtual µs/req |\n');
  process.stdout.write('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n');
  const kinds: { device: string; op: string; run: (iface: 'sync' | 'ring', qd: number, seed: number) => Promise<Sample> }[] = [];
  if (devices.includes('blk')) {
    kinds.push({ device: 'blk', op: 'read', run: (i, q, sd) => once(i, P.BLK_OP_READ, q, ops, sd) });
    kinds.push({ device: 'blk', op: 'write', run: (i, q, sd) => once(i, P.BLK_OP_WRITE, q, ops, sd) });
  }
  if (devices.includes('net')) kinds.push({ device: 'net', op: 'echo', run: (i, q, sd) => onceNet(i, q, Math.max(256, ops >> 2), sd) });
  /** Per device/op/QD: ring ÷ sync requests/s of each run pair (run r of each, back to back). */
  const pairs = new Map<string, { ratios: number[]; best: number }>();
  for (const kind of kinds) {
    for (const qd of qds) {
      // Alternate the two interfaces run by run, so that a change in the machine's load
      // affects both alike.
      const bySide: Record<'sync' | 'ring', Sample[]> = { sync: [], ring: [] };
      // One untimed pair first: the JIT re-optimises when the workload changes shape (another
      // queue depth, another device), and the first runs after a change were 2-4x slower.
      for (const iface of ['sync', 'ring'] as const) await kind.run(iface, qd, 999);
      for (let r = 0; r < runs; r++) {
        for (const iface of ['sync', 'ring'] as const) bySide[iface].push(await kind.run(iface, qd, 1000 + r));
      }
      const fastest = (side: Sample[]): number => Math.max(...side.map((x) => x.rps));
      pairs.set(`${kind.device}/${kind.op}/${qd}`, { ratios: bySide.sync.map((x, r) => bySide.ring[r].rps / x.rps), best: fastest(bySide.ring) / fastest(bySide.sync) });
      for (const iface of ['sync', 'ring'] as const) {
        const samples = bySide[iface];
        const row = {
          device: kind.device, op: kind.op, iface, qd,
          rps: Math.round(median(samples.map((x) => x.rps))),
          entries_per_req: round(median(samples.map((x) => x.entries)), 2),
          switches_per_req: round(median(samples.map((x) => x.switches)), 2),
          irqs_per_req: round(median(samples.map((x) => x.irqs)), 2),
          insns_per_req: Math.round(median(samples.map((x) => x.insns))),
          vus_per_req: round(median(samples.map((x) => x.vus)), 1),
          rps_runs: samples.map((x) => Math.round(x.rps)).join('/'),
          rps_wall: Math.round(median(samples.map((x) => x.rpsWall))),
          rps_wall_runs: samples.map((x) => Math.round(x.rpsWall)).join('/'),
        };
        rows.push(row);
        process.stdout.write(`| ${row.device} | ${row.op} | ${iface} | ${qd} | ${row.rps.toLocaleString('en-US')} (${row.rps_runs}) | ${row.entries_per_req} | ${row.switches_per_req} | ${row.irqs_per_req} | ${row.insns_per_req} | ${row.vus_per_req} |\n`);
      }
    }
  }
  // Targets: at QD >= 16, rings need >= 5x fewer kernel entries per request and >= 2x the
  // requests per second of synchronous IPC.
  const ratios: Record<string, number | string | boolean>[] = [];
  for (const r of rows.filter((x) => x.iface === 'ring' && (x.qd as number) >= 16)) {
    const s = rows.find((x) => x.iface === 'sync' && x.op === r.op && x.qd === r.qd && x.device === r.device)!;
    const entries = (s.entries_per_req as number) / (r.entries_per_req as number);
    const rps = (r.rps as number) / (s.rps as number);
    // The paired ratio: the median over runs of (ring run r ÷ sync run r). The two runs of a pair
    // are back to back, so a change in the machine's load between pairs cancels out; this is
    // the figure the target is judged on. The ratio of the two medians is shown beside it.
    const { ratios: paired, best } = pairs.get(`${r.device}/${r.op}/${r.qd}`)!;
    const pm = median(paired);
    // And the fastest run of each side: interference from the rest of the machine only ever
    // slows a run down, so the best of N is the closest either side gets to its own cost.
    ratios.push({
      device: r.device as string, op: r.op as string, qd: r.qd as number, entries_ratio: round(entries, 1), rps_ratio: round(rps, 2),
      rps_ratio_paired: round(pm, 2), rps_ratio_pairs: paired.map((x) => round(x, 2)).join('/'), rps_ratio_best: round(best, 2),
      entries_target: entries >= 5, rps_target: pm >= 2,
    });
  }
  process.stdout.write('\nring vs sync at QD >= 16 (targets: entries ratio >= 5, requests/s ratio >= 2, judged on the median of the run pairs\' ratios):\n');
  for (const x of ratios) {
    process.stdout.write(`  ${x.device} ${x.op} QD ${x.qd}: entries ${x.entries_ratio}x ${x.entries_target ? 'ok' : 'MISSED'}, requests/s ${x.rps_ratio_paired}x paired (${x.rps_ratio_pairs}; ratio of medians ${x.rps_ratio}x, of the fastest runs ${x.rps_ratio_best}x) ${x.rps_target ? 'ok' : 'MISSED'}\n`);
  }
  process.stdout.write(JSON.stringify({ suite: 'io', runs, ops, coldDisk, rows, ratios }) + '\n');
}
