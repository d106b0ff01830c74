import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseManifest } from './validate.ts';
import { encodeBootPlan, untypedPieces, nameWords } from './bootplan.ts';
import { generateBootPlanAs, BOOTPLAN_AS_PATH } from './gen-bootplan-as.ts';
import {
  BOOTPLAN_MAGIC, PlanHdr, PlanComp, PlanObj, PlanObjKind, PlanGrant, PlanPlace, PlanIrqBind, START_INFO_MAGIC, StartHdr,
  MemClient, MemClientFlags, NamesAllow, NamesService, SupClient, PLAN_NONE, PlanCompFlags, StartCap, StartCapKind,
  PlanRole, PlanRestart, START_INFO_BASE,
} from '../abi/bootplan.ts';
import { CompSlot, Rights } from '../abi/caps.ts';
import { expectedCapabilities } from './caps.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const m = parseManifest(readFileSync(new URL('../../manifests/default.json', import.meta.url), 'utf8'), { baseDir: ROOT, checkImages: false });
const images = m.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 10_000 + i, entry: 0xc000_0000 + i });
const plan = encodeBootPlan(m, images);
const dv = new DataView(plan.bytes.buffer);
const w = (k: number): number => dv.getUint32(k * 4, true);
const hdr = (k: number): number => w(k);
const comp = (i: number, f: number): number => w(hdr(PlanHdr.ComponentTable) + i * PlanComp.Words + f);
const objRec = (i: number, f: number): number => w(hdr(PlanHdr.ObjectTable) + i * PlanObj.Words + f);

function nameAt(k: number): string {
  const n = w(k);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((w(k + 1 + (i >> 2)) >>> (8 * (i & 3))) & 0xff);
  return s;
}

test('user/lib/bootplan.ts is generated from src/abi/bootplan.ts and up to date', () => {
  assert.equal(readFileSync(BOOTPLAN_AS_PATH, 'utf8'), generateBootPlanAs());
});

test('helpers: untyped pieces, names', () => {
  assert.deepEqual(untypedPieces(100), [6, 5, 2]);
  assert.deepEqual(untypedPieces(2049), [10, 10, 0]);
  assert.deepEqual(untypedPieces(64), [6]);
  assert.deepEqual(nameWords('abcde').slice(0, 3), [5, 0x64636261, 0x65]);
});

test('header and components', () => {
  assert.equal(hdr(PlanHdr.Magic), BOOTPLAN_MAGIC);
  assert.equal(hdr(PlanHdr.SizeBytes), plan.bytes.length);
  assert.equal(hdr(PlanHdr.ComponentCount), 6);
  assert.equal(hdr(PlanHdr.RootIndex), 0);
  assert.equal(nameAt(hdr(PlanHdr.ComponentTable) + 5 * PlanComp.Words + PlanComp.Name), 'hello');
  assert.equal(comp(0, PlanComp.Module), PLAN_NONE);
  assert.equal(comp(5, PlanComp.Module), 5);
  assert.equal(comp(5, PlanComp.BudgetTicks), 20000); // 2000 us at 10 MHz
  assert.equal(comp(5, PlanComp.Priority), 100);
  assert.equal(comp(1, PlanComp.Flags) & PlanCompFlags.EagerLoad, PlanCompFlags.EagerLoad); // the memory manager
  assert.equal(comp(5, PlanComp.Flags) & PlanCompFlags.EagerLoad, 0);
  assert.equal(comp(5, PlanComp.StackPages), 0);
  const order = Array.from({ length: hdr(PlanHdr.StartOrderCount) }, (_, i) => w(hdr(PlanHdr.StartOrderTable) + i));
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
});

test('one grant per expected capability, at the slots of docs/USERLAND.md', () => {
  const lines = expectedCapabilities(m);
  assert.equal(hdr(PlanHdr.GrantCount), lines.length);
  assert.equal(plan.slotOf('hello', 'Task', 'hello'), CompSlot.Task);
  assert.equal(plan.slotOf('hello', 'Endpoint', 'pager', 6), CompSlot.Memory);
  assert.equal(plan.slotOf('hello', 'Endpoint', 'names', 6), CompSlot.Names);
  assert.equal(plan.slotOf('console', 'IoMem', '0x10000000'), 16);
  assert.equal(plan.slotOf('console', 'IrqHandler', '10'), 17);
  assert.equal(plan.slotOf('console', 'Notification', 'irq:console'), 18);
  assert.equal(plan.slotOf('console', 'Endpoint', 'svc:console'), 19);
  assert.equal(plan.slotOf('memory', 'Endpoint', 'pager'), 16);
  assert.equal(plan.slotOf('memory', 'Endpoint', 'faults', 2), CompSlot.Supervisor);
  const g = hdr(PlanHdr.GrantTable);
  const pagers = Array.from({ length: lines.length }, (_, i) => i).filter((i) => w(g + i * PlanGrant.Words + PlanGrant.Place) === PlanPlace.Pager);
  assert.equal(pagers.length, 4);
  assert.equal(hdr(PlanHdr.IrqBindCount), 1);
  const b = hdr(PlanHdr.IrqBindTable);
  assert.equal(objRec(w(b + PlanIrqBind.Irq), PlanObj.Kind), PlanObjKind.IrqHandler);
  assert.equal(w(b + PlanIrqBind.Badge), 1);
});

test('start information of the memory manager, the name service and the supervisor', () => {
  const page = (ci: number): ((k: number) => number) => {
    const o = comp(ci, PlanComp.StartInfoObj);
    assert.equal(objRec(o, PlanObj.Kind), PlanObjKind.StartInfo);
    const base = objRec(o, PlanObj.P0);
    return (k) => w(base + k);
  };
  const mm = page(1);
  assert.equal(mm(StartHdr.Magic), START_INFO_MAGIC);
  assert.equal(mm(StartHdr.Endpoint), 16);
  assert.equal(mm(StartHdr.EntryCount), 5);
  assert.equal(mm(StartHdr.SupervisorBadge), 3);
  const e = (i: number, f: number): number => mm(mm(StartHdr.EntryTable) + i * MemClient.Words + f);
  assert.equal(e(0, MemClient.Flags), MemClientFlags.Self | MemClientFlags.EagerLoaded);
  assert.equal(e(4, MemClient.Flags), 0);
  const eager = encodeBootPlan(m, images, { eager: 'all' });
  assert.equal(eager.bytes.length, plan.bytes.length);
  assert.equal(e(0, MemClient.TaskSlot), CompSlot.Task);
  assert.equal(e(0, MemClient.UntypedSlot), 17);
  assert.equal(e(4, MemClient.Badge), 6);
  assert.equal(e(4, MemClient.QuotaPages), 128);
  assert.equal(e(4, MemClient.TaskSlot), plan.slotOf('memory', 'Task', 'hello'));
  assert.equal(e(4, MemClient.ImageSlot), plan.slotOf('memory', 'Frame', 'image:hello'));
  assert.equal(e(4, MemClient.ImageFrames), 3);
  assert.equal(e(4, MemClient.ImageBytes), 10_005);
  const names = page(3);
  assert.equal(names(StartHdr.EntryCount), 1);
  const a = names(StartHdr.EntryTable);
  assert.equal(names(a + NamesAllow.ClientBadge), 6);
  assert.equal(names(a + NamesAllow.EndpointSlot), plan.slotOf('names', 'Endpoint', 'svc:console', 6));
  assert.equal(names(a + NamesAllow.Service), 0);
  assert.equal(names(StartHdr.Entry2Count), 1);
  assert.equal(names(names(StartHdr.Entry2Table) + NamesService.ProviderBadge), 5);
  const sup = page(2);
  const s = sup(StartHdr.EntryTable);
  assert.equal(sup(StartHdr.EntryCount), 3); // names (policy never: stopped on a refused page fault), console and hello
  assert.equal(sup(s + SupClient.Badge), 4);
  assert.equal(sup(s + SupClient.ThreadSlot), plan.slotOf('supervisor', 'Thread', 'names'));
  assert.equal(sup(s + SupClient.Policy), PlanRestart.Never);
  for (const k of [SupClient.TaskSlot, SupClient.MaxRestarts, SupClient.BackoffInitialMs, SupClient.EntryPc, SupClient.StartArg]) assert.equal(sup(s + k), 0);
  assert.equal(sup(s + SupClient.Name), 5); // "names"
  const s1 = s + SupClient.Words;
  assert.equal(sup(s1 + SupClient.Badge), 5);
  assert.equal(sup(s1 + SupClient.ThreadSlot), plan.slotOf('supervisor', 'Thread', 'console'));
  assert.equal(sup(s1 + SupClient.TaskSlot), plan.slotOf('supervisor', 'Task', 'console'));
  assert.equal(sup(s1 + SupClient.Policy), PlanRestart.OnFailure);
  assert.equal(sup(s1 + SupClient.EntryPc), 0xc000_0004);
  assert.equal(sup(s1 + SupClient.MaxRestarts), 3);
});

test('the virtio-blk driver of manifests/storage.json gets its start information: its slots, one virtual block device per client badge (its blockDevices entry; without blockDevices the whole disk, read-write)', async () => {
  const io = await import('../../user/lib/io-proto.ts');
  const sm = parseManifest(readFileSync(new URL('../../manifests/storage.json', import.meta.url), 'utf8'), { baseDir: ROOT, checkImages: false });
  const ims = sm.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 10_000 + i, entry: 0xc000_0000 + i });
  const p = encodeBootPlan(sm, ims);
  const v = new DataView(p.bytes.buffer);
  const word = (k: number): number => v.getUint32(k * 4, true);
  const di = sm.components.findIndex((c) => c.name === 'blk');
  const si = word(word(PlanHdr.ComponentTable) + di * PlanComp.Words + PlanComp.StartInfoObj);
  assert.notEqual(si, PLAN_NONE);
  const at = word(word(PlanHdr.ObjectTable) + si * PlanObj.Words + PlanObj.P0);
  const cfg = (k: number): number => word(at + k);
  assert.equal(cfg(io.CFG_MAGIC), io.CFG_MAGIC_BLK);
  assert.equal(cfg(io.CFG_ENDPOINT), p.slotOf('blk', 'Endpoint', 'svc:blk'));
  assert.equal(cfg(io.CFG_MMIO), p.slotOf('blk', 'IoMem', '0x10001000'));
  assert.equal(cfg(io.CFG_IRQ), p.slotOf('blk', 'IrqHandler', '1'));
  assert.equal(cfg(io.CFG_IRQ_NTFN), p.slotOf('blk', 'Notification', 'irq:blk'));
  assert.equal(cfg(io.CFG_DMA), p.slotOf('blk', 'DmaWindow', '0'));
  assert.equal(cfg(io.CFG_PRIV_FRAME), p.slotOf('blk', 'Frame', '0x87000000'));
  const ks = sm.components.findIndex((c) => c.name === 'storage') + 1;
  const kr = sm.components.findIndex((c) => c.name === 'reader') + 1;
  const kg = sm.components.findIndex((c) => c.name === 'ring-client') + 1;
  assert.equal(cfg(io.CFG_NCLIENTS), Math.max(ks, kr, kg));
  const dev = (c: number): [number, number, number, number] => {
    const e = io.CFG_CLIENTS + (c - 1) * io.CLIENT_WORDS;
    return [cfg(e + io.CL_FLAGS), cfg(e + io.CL_BASE), cfg(e + io.CL_SECTORS), cfg(e + io.CL_DATA_FRAME)];
  };
  for (let c = 1; c <= io.MAX_CLIENTS; c++) {
    if (c === ks) assert.deepEqual(dev(c), [io.CLF_PRESENT | io.CLF_WRITE, 1024, 512, 0]); // connects at run time
    else if (c === kr) assert.deepEqual(dev(c), [io.CLF_PRESENT, 256, 256, 0]); // read-only
    else if (c === kg) assert.deepEqual(dev(c), [io.CLF_PRESENT | io.CLF_WRITE, 1536, 512, 0]);
    else assert.equal(dev(c)[0], 0);
  }
  // Without blockDevices every client gets the whole disk, read-write.
  const j0 = JSON.parse(readFileSync(new URL('../../manifests/storage.json', import.meta.url), 'utf8')) as { components: { name: string; provides?: { blockDevices?: unknown }[] }[] };
  delete j0.components.find((c) => c.name === 'blk')!.provides![0].blockDevices;
  const whole = parseManifest(JSON.stringify(j0), { baseDir: ROOT, checkImages: false });
  const pw = encodeBootPlan(whole, whole.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 1, entry: 0 }));
  const vw = new DataView(pw.bytes.buffer);
  const ww = (k: number): number => vw.getUint32(k * 4, true);
  const siw = ww(ww(PlanHdr.ComponentTable) + di * PlanComp.Words + PlanComp.StartInfoObj);
  const atw = ww(ww(PlanHdr.ObjectTable) + siw * PlanObj.Words + PlanObj.P0);
  for (const c of [ks, kr, kg]) {
    const e = atw + io.CFG_CLIENTS + (c - 1) * io.CLIENT_WORDS;
    assert.deepEqual([ww(e + io.CL_FLAGS), ww(e + io.CL_BASE), ww(e + io.CL_SECTORS)], [io.CLF_PRESENT | io.CLF_WRITE, 0, io.BLK_WHOLE_DISK]);
  }
  // A client whose badge is not a driver client number (1..7) is refused.
  const j = JSON.parse(readFileSync(new URL('../../manifests/storage.json', import.meta.url), 'utf8')) as { components: unknown[] };
  const st = j.components.splice(j.components.findIndex((c) => (c as { name: string }).name === 'storage'), 1)[0];
  j.components.push(st);
  const late = parseManifest(JSON.stringify(j), { baseDir: ROOT, checkImages: false });
  assert.throws(() => encodeBootPlan(late, late.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 1, entry: 0 })), /badge 11.*1\.\.7/);
});

/** The start-information page of component `ci` of an encoded plan (word accessor), or null. */
function startPage(p: ReturnType<typeof encodeBootPlan>, ci: number): ((k: number) => number) | null {
  const v = new DataView(p.bytes.buffer);
  const word = (k: number): number => v.getUint32(k * 4, true);
  const so = word(word(PlanHdr.ComponentTable) + ci * PlanComp.Words + PlanComp.StartInfoObj);
  if (so === PLAN_NONE) return null;
  assert.equal(word(word(PlanHdr.ObjectTable) + so * PlanObj.Words + PlanObj.Kind), PlanObjKind.StartInfo);
  const at = word(word(PlanHdr.ObjectTable) + so * PlanObj.Words + PlanObj.P0);
  return (k) => word(at + k);
}

/** The capability directory of a StartHdr page: [kind, slot, slots, rights, name] per entry. */
function directory(page: (k: number) => number): [number, number, number, number, string][] {
  assert.equal(page(StartHdr.Magic), START_INFO_MAGIC);
  assert.equal(page(StartHdr.CapWords), StartCap.Words);
  return Array.from({ length: page(StartHdr.CapCount) }, (_, i) => {
    const e = page(StartHdr.CapTable) + i * StartCap.Words;
    const n = page(e + StartCap.Name);
    let s = '';
    for (let b = 0; b < n; b++) s += String.fromCharCode((page(e + StartCap.Name + 1 + (b >> 2)) >>> (8 * (b & 3))) & 0xff);
    return [page(e + StartCap.Kind), page(e + StartCap.Slot), page(e + StartCap.Slots), page(e + StartCap.Rights), s];
  });
}

const storageJson = (): { components: Record<string, unknown>[] } => JSON.parse(readFileSync(new URL('../../manifests/storage.json', import.meta.url), 'utf8'));
const encodeJson = (j: unknown): { m: ReturnType<typeof parseManifest>; p: ReturnType<typeof encodeBootPlan> } => {
  const mm = parseManifest(JSON.stringify(j), { baseDir: ROOT, checkImages: false });
  return { m: mm, p: encodeBootPlan(mm, mm.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 10_000 + i, entry: 0xc000_0000 + i })) };
};

test('capability directory: every StartHdr page has one; the system components of the default system list nothing, and components without directory entries get no page', () => {
  for (const ci of [1, 2, 3]) assert.deepEqual(directory(startPage(plan, ci)!), []);
  assert.equal(startPage(plan, 4), null); // console
  assert.equal(startPage(plan, 5), null); // hello
});

test('capability directory: a ring client finds its notification through its start information, also when it provides a service of its own (manifests/storage.json ring-client: not at FirstFree)', () => {
  const { m: sm, p } = encodeJson(storageJson());
  const idx = (n: string): number => sm.components.findIndex((c) => c.name === n);
  const RW = Rights.Read | Rights.Write;
  // ring-client provides ring-status: its endpoint takes FirstFree, the notification comes next.
  const rc = idx('ring-client');
  assert.equal(p.slotOf('ring-client', 'Endpoint', 'svc:ring-status'), CompSlot.FirstFree);
  const ntfn = p.slotOf('ring-client', 'Notification', 'ring:ring-client');
  assert.equal(ntfn, CompSlot.FirstFree + 1);
  const page = startPage(p, rc)!;
  assert.equal(page(StartHdr.Role), PlanRole.Task);
  assert.equal(page(StartHdr.Badge), rc + 1);
  assert.equal(page(StartHdr.Endpoint), 0);
  assert.equal(page(StartHdr.EntryCount), 0);
  assert.equal(page(StartHdr.Entry2Count), 0);
  assert.deepEqual(directory(page), [[StartCapKind.RingNotification, ntfn, 1, RW, 'blk']]);
  // The clients without services of their own: at FirstFree, and listed all the same.
  for (const c of ['storage', 'reader']) {
    assert.equal(p.slotOf(c, 'Notification', `ring:${c}`), CompSlot.FirstFree);
    assert.deepEqual(directory(startPage(p, idx(c))!), [[StartCapKind.RingNotification, CompSlot.FirstFree, 1, RW, 'blk']]);
  }
  // No ring service used: no page (the console, hello, the intruder); the driver keeps its own layout.
  for (const c of ['console', 'hello', 'intruder']) assert.equal(startPage(p, idx(c)), null, c);
  assert.notEqual(startPage(p, idx('blk'))!(StartHdr.Magic), START_INFO_MAGIC);
});

test('capability directory: a ring client with a device and IRQs of its own, restarted by the supervisor from its start information', () => {
  const j = storageJson();
  const rc = j.components.find((c) => c.name === 'ring-client')!;
  delete rc.provides;
  rc.devices = [{ kind: 'virtio', slot: 1 }];
  rc.irqs = [2];
  rc.restart = { policy: 'on-failure', maxRestarts: 1, backoff: { initialMs: 10, maxMs: 10 } };
  const { m: sm, p } = encodeJson(j);
  const ci = sm.components.findIndex((c) => c.name === 'ring-client');
  // IoMem, IrqHandler, Notification(irq) first (docs/MANIFEST.md "Capabilities" rule order).
  assert.equal(p.slotOf('ring-client', 'IoMem', '0x10002000'), CompSlot.FirstFree);
  assert.equal(p.slotOf('ring-client', 'IrqHandler', '2'), CompSlot.FirstFree + 1);
  assert.equal(p.slotOf('ring-client', 'Notification', 'irq:ring-client'), CompSlot.FirstFree + 2);
  const ntfn = p.slotOf('ring-client', 'Notification', 'ring:ring-client');
  assert.equal(ntfn, CompSlot.FirstFree + 3);
  assert.deepEqual(directory(startPage(p, ci)!), [[StartCapKind.RingNotification, ntfn, 1, Rights.Read | Rights.Write, 'blk']]);
  // The supervisor restarts it with a0 = START_INFO_BASE, as the root task started it.
  const sup = startPage(p, sm.components.findIndex((c) => c.role === 'supervisor'))!;
  const e = Array.from({ length: sup(StartHdr.EntryCount) }, (_, i) => sup(StartHdr.EntryTable) + i * SupClient.Words)
    .find((a) => sup(a + SupClient.Badge) === ci + 1)!;
  assert.equal(sup(e + SupClient.StartArg), START_INFO_BASE);
});

test('capability directory: one entry per ring-capable service a component uses; a virtio-blk driver (its own page layout) cannot be a ring client', () => {
  // Two blk drivers with ring-capable services; "user" uses both, the first driver uses the second.
  const comp = (name: string, role: string, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ name, role, image: 'user/hello/main.ts', priority: 100, sched: { budgetUs: 1000, periodUs: 10000 }, memoryPages: 64, ...extra });
  const driver = (name: string, slot: number, base: string, extra: Record<string, unknown> = {}): Record<string, unknown> => comp(name, 'task', {
    devices: [{ kind: 'virtio', slot, expect: 'blk', dma: [{ base, pages: 4 }] }], irqs: [slot + 1],
    provides: [{ name, grant: true, ring: true }], ...extra,
  });
  const sys = (dUses: string[]): unknown => ({
    version: 1,
    components: [comp('root', 'root'), comp('memory', 'memory-manager'), comp('names', 'name-service'),
      comp('user', 'task', { uses: ['blka', 'blkb'], provides: [{ name: 'own' }] }),
      driver('blka', 0, '0x8700_0000', dUses.length > 0 ? { uses: dUses } : {}), driver('blkb', 1, '0x8701_0000')],
  });
  const { p } = encodeJson(sys([]));
  const ntfn = p.slotOf('user', 'Notification', 'ring:user');
  assert.equal(ntfn, CompSlot.FirstFree + 1);
  const RW = Rights.Read | Rights.Write;
  assert.deepEqual(directory(startPage(p, 3)!), [[StartCapKind.RingNotification, ntfn, 1, RW, 'blka'], [StartCapKind.RingNotification, ntfn, 1, RW, 'blkb']]);
  assert.throws(() => encodeJson(sys(['blkb'])), /"blka": its start information is a driver's own layout, without a capability directory/);
});

test('the virtio-net drivers of manifests/network.json and their IRQ forwarders get their start information: slots, one client per badge with its MAC address', async () => {
  const io = await import('../../user/lib/io-proto.ts');
  const nm = parseManifest(readFileSync(new URL('../../manifests/network.json', import.meta.url), 'utf8'), { baseDir: ROOT, checkImages: false });
  const ims = nm.components.map((c, i) => c.role === 'root' ? null : { module: i, size: 10_000 + i, entry: 0xc000_0000 + i });
  const p = encodeBootPlan(nm, ims);
  const v = new DataView(p.bytes.buffer);
  const word = (k: number): number => v.getUint32(k * 4, true);
  const startOf = (name: string): ((k: number) => number) => {
    const ci = nm.components.findIndex((c) => c.name === name);
    const si = word(word(PlanHdr.ComponentTable) + ci * PlanComp.Words + PlanComp.StartInfoObj);
    assert.notEqual(si, PLAN_NONE, name);
    const at = word(word(PlanHdr.ObjectTable) + si * PlanObj.Words + PlanObj.P0);
    return (k: number) => word(at + k);
  };
  const badge = (name: string): number => nm.components.findIndex((c) => c.name === name) + 1;
  const macs: Record<string, [number, number]> = {
    'echo': [0x0000_0002, 0x0101], 'ping': [0x0000_0002, 0x0102], 'ping-ring': [0x0000_0002, 0x0202],
  };
  for (const [drv, slot, irq, dma, clients] of [['net0', 0, 1, '0x87000000', ['echo']], ['net1', 1, 2, '0x87040000', ['ping', 'ping-ring']]] as const) {
    const cfg = startOf(drv);
    assert.equal(cfg(io.CFG_MAGIC), io.CFG_MAGIC_BLK);
    assert.equal(cfg(io.CFG_FLAGS), 0);
    assert.equal(cfg(io.CFG_ENDPOINT), p.slotOf(drv, 'Endpoint', `svc:${drv}`));
    assert.equal(cfg(io.CFG_MMIO), p.slotOf(drv, 'IoMem', `0x1000${slot + 1}000`));
    assert.equal(cfg(io.CFG_IRQ), p.slotOf(drv, 'IrqHandler', String(irq)));
    assert.equal(cfg(io.CFG_IRQ_NTFN), p.slotOf(drv, 'Notification', `irq:${drv}`));
    assert.equal(cfg(io.CFG_DMA), p.slotOf(drv, 'DmaWindow', String(slot)));
    assert.equal(cfg(io.CFG_PRIV_FRAME), p.slotOf(drv, 'Frame', dma));
    const ks: number[] = clients.map(badge);
    assert.equal(cfg(io.CFG_NCLIENTS), Math.max(...ks));
    for (let k = 1; k <= io.MAX_CLIENTS; k++) {
      const e = io.CFG_CLIENTS + (k - 1) * io.CLIENT_WORDS;
      const j = ks.indexOf(k);
      if (j < 0) { assert.equal(cfg(e + io.CL_FLAGS), 0, `${drv} client ${k}`); continue; }
      // Connects at run time: no data frame, notification or ring in the start information.
      assert.deepEqual([cfg(e + io.CL_FLAGS), cfg(e + io.NCL_MAC_LO), cfg(e + io.NCL_MAC_HI), cfg(e + io.CL_DATA_FRAME), cfg(e + io.CL_NTFN), cfg(e + io.CL_RING)],
        [io.CLF_PRESENT, ...macs[clients[j]], 0, 0, 0], `${drv} client ${k}`);
    }
    const fwd = startOf(`${drv}-irq`);
    assert.equal(fwd(io.CFG_MAGIC), io.CFG_MAGIC_BLK);
    assert.equal(fwd(io.CFG_FLAGS), io.NET_F_FORWARDER);
    assert.equal(fwd(io.CFG_ENDPOINT), p.slotOf(`${drv}-irq`, 'Endpoint', `svc:${drv}`));
    assert.equal(fwd(io.CFG_IRQ_NTFN), p.slotOf(`${drv}-irq`, 'Notification', `irq:${drv}`));
    // Every line of its expected distribution is a grant in the plan.
    assert.equal(p.grants.filter((g) => g.holder === badge(`${drv}-irq`) - 1).length, expectedCapabilities(nm).filter((l) => l.holder === `${drv}-irq`).length);
  }
  // The clients find their notification in their start information's capability directory
  // (user/network/common.ts connectNet).
  for (const [c, svc] of [['echo', 'net0'], ['ping', 'net1'], ['ping-ring', 'net1']]) {
    const ci = nm.components.findIndex((x) => x.name === c);
    assert.deepEqual(directory(startPage(p, ci)!), [[StartCapKind.RingNotification, p.slotOf(c, 'Notification', `ring:${c}`), 1, Rights.Read | Rights.Write, svc]]);
  }
});
