import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rights } from '../abi/caps.ts';
import { parseManifest } from './validate.ts';
import { expectedCapabilities, formatCapLine, formatCaps, rightsString, badgeOf, checkCapabilities, settledCapabilities, quotaFrameViolation, type CapLine, type ObservedCap } from './caps.ts';

const SCHED = { budgetUs: 1000, periodUs: 10000 };

function manifest(components: object[]) {
  return parseManifest(JSON.stringify({ version: 1, components }), { baseDir: '/p', checkImages: false });
}

function c(name: string, extra: object = {}): object {
  return { name, image: `user/${name}/main.ts`, priority: 10, sched: SCHED, memoryPages: 8, ...extra };
}

const BASE = [
  c('memory', { role: 'memory-manager' }),
  c('root', { role: 'root' }), // not first: badges still follow manifest positions
  c('sup', { role: 'supervisor' }),
  c('names', { role: 'name-service' }),
];

function linesOf(lines: readonly CapLine[], holder: string): string[] {
  return lines.filter((l) => l.holder === holder).map(formatCapLine);
}

test('rights are written R, W, X, G in that order', () => {
  assert.equal(rightsString(Rights.Read | Rights.Write), 'RW');
  assert.equal(rightsString(Rights.Grant | Rights.Write), 'WG');
  assert.equal(rightsString(Rights.Exec | Rights.Read), 'RX');
  assert.equal(rightsString(0), '-');
});

test('a component badge is its manifest position plus 1', () => {
  assert.equal(badgeOf(0), 1);
  assert.equal(badgeOf(5), 6);
});

test('a driver gets its device page, DMA window right and frames, IRQ handler and notification', () => {
  const m = manifest([...BASE, c('blk', {
    devices: [{ kind: 'virtio', slot: 1, dma: [{ base: '0x8700_0000', pages: 2 }, { base: '0x8700_2000', pages: 1 }] }],
    irqs: [2],
    provides: [{ name: 'blk0' }],
    restart: { policy: 'always', backoff: { initialMs: 1, maxMs: 8 } },
  })]);
  assert.deepEqual(linesOf(expectedCapabilities(m), 'blk'), [
    'blk cspace Task(blk) RW',
    'blk pager Endpoint(pager) W badge=5',
    'blk cspace Endpoint(pager) W badge=5',
    'blk exception-handler Endpoint(faults) W badge=5',
    'blk cspace IoMem(0x10002000) RW',
    'blk cspace DmaWindow(1) W',
    'blk cspace Frame(0x87000000, 2 pages) RW',
    'blk cspace Frame(0x87002000, 1 pages) RW',
    'blk cspace IrqHandler(2) W',
    'blk cspace Notification(irq:blk) R',
    'blk cspace Endpoint(svc:blk0) R',
  ]);
});

test('the test device and the uart are I/O pages without DMA', () => {
  const m = manifest([...BASE, c('off', { devices: [{ kind: 'testdev' }, { kind: 'uart' }] })]);
  assert.deepEqual(linesOf(expectedCapabilities(m), 'off').filter((l) => l.includes('IoMem')), [
    'off cspace IoMem(0x00100000) RW',
    'off cspace IoMem(0x10000000) RW',
  ]);
});

test('the memory manager holds every quota, and the tasks and images of the others', () => {
  const m = manifest([...BASE, c('app', { memoryPages: 100 })]);
  assert.deepEqual(linesOf(expectedCapabilities(m), 'memory'), [
    'memory cspace Task(memory) RW',
    'memory cspace Endpoint(pager) R',
    'memory cspace Untyped(memory, 8 pages) W',
    'memory cspace Untyped(sup, 8 pages) W',
    'memory cspace Task(sup) W',
    'memory cspace Frame(image:sup) RX',
    'memory cspace Untyped(names, 8 pages) W',
    'memory cspace Task(names) W',
    'memory cspace Frame(image:names) RX',
    'memory cspace Untyped(app, 100 pages) W',
    'memory cspace Task(app) W',
    'memory cspace Frame(image:app) RX',
    'memory cspace Endpoint(faults) W badge=1',
  ]);
});

test('the name service holds a badged endpoint for each use; each user a badged names endpoint', () => {
  const m = manifest([...BASE,
    c('srv', { provides: [{ name: 'a' }, { name: 'b' }] }),
    c('x', { uses: ['a', 'b'] }),
    c('y', { uses: ['b'] }),
  ]);
  const lines = expectedCapabilities(m);
  assert.deepEqual(linesOf(lines, 'names'), [
    'names cspace Task(names) RW',
    'names pager Endpoint(pager) W badge=4',
    'names cspace Endpoint(pager) W badge=4',
    'names cspace Endpoint(names) R',
    'names cspace Endpoint(svc:a) W badge=6',
    'names cspace Endpoint(svc:b) W badge=6',
    'names cspace Endpoint(svc:b) W badge=7',
  ]);
  assert.deepEqual(linesOf(lines, 'y'), [
    'y cspace Task(y) RW',
    'y pager Endpoint(pager) W badge=7',
    'y cspace Endpoint(pager) W badge=7',
    'y cspace Endpoint(names) W badge=7',
  ]);
  assert.deepEqual(linesOf(lines, 'srv'), [
    'srv cspace Task(srv) RW',
    'srv pager Endpoint(pager) W badge=5',
    'srv cspace Endpoint(pager) W badge=5',
    'srv cspace Endpoint(svc:a) R',
    'srv cspace Endpoint(svc:b) R',
  ]);
});

test('the supervisor holds the thread and task of each component it restarts, only the thread (W, to stop it) of the others, nothing of the root task, the memory manager and itself', () => {
  const m = manifest([...BASE,
    c('a', { restart: { policy: 'on-failure', maxRestarts: 2, backoff: { initialMs: 1, maxMs: 1 } } }),
    c('b'),
  ]);
  const lines = expectedCapabilities(m);
  assert.deepEqual(linesOf(lines, 'sup'), [
    'sup cspace Task(sup) RW',
    'sup pager Endpoint(pager) W badge=3',
    'sup cspace Endpoint(pager) W badge=3',
    'sup cspace Endpoint(faults) R',
    'sup cspace Thread(names) W',
    'sup cspace Thread(a) RW',
    'sup cspace Task(a) W',
    'sup cspace Thread(b) W',
  ]);
  assert.ok(!lines.some((l) => l.holder === 'b' && l.place === 'exception-handler'));
  assert.ok(!lines.some((l) => l.holder === 'names' && l.place === 'exception-handler'));
});

test('the root task is not listed: it holds the originals', () => {
  const lines = expectedCapabilities(manifest(BASE));
  assert.ok(!lines.some((l) => l.holder === 'root'));
  assert.ok(!lines.some((l) => l.object === 'root'));
});

test('formatCaps sorts the lines so that two distributions compare as text', () => {
  const lines = expectedCapabilities(manifest(BASE));
  const text = formatCaps(lines);
  assert.equal(text, formatCaps([...lines].reverse()));
  assert.ok(text.endsWith('\n'));
  assert.deepEqual(text.trimEnd().split('\n'), lines.map(formatCapLine).sort());
});

// ------------------------------------------------------------------------------------------------
// After the system settles
// ------------------------------------------------------------------------------------------------

const RWX = Rights.Read | Rights.Write | Rights.Exec;

function observedOf(lines: readonly CapLine[]): ObservedCap[] {
  return lines.map(({ why: _why, ...l }) => ({ ...l }));
}

function frame(holder: string, quota: string, chain: string[], pa: number, pages: number, rights = RWX): ObservedCap {
  return { holder, place: 'cspace', type: 'Frame', object: `quota:${quota}`, pages, rights, badge: 0, quota: { untyped: quota, chain, pa } };
}

test('settled: lookups of used services and frames of quotas are explained; quota frames merge per holder', () => {
  const m = manifest([...BASE, c('srv', { provides: [{ name: 'svc' }] }), c('app', { uses: ['svc'], memoryPages: 32 })]);
  const app = badgeOf(5);
  const observed = [
    ...observedOf(expectedCapabilities(m)),
    { holder: 'app', place: 'cspace', type: 'Endpoint', object: 'svc:svc', pages: null, rights: Rights.Write, badge: app } as ObservedCap,
    frame('memory', 'app', ['memory'], 0x8100_0000, 16),
    frame('memory', 'app', ['memory'], 0x8101_0000, 8),
    frame('memory', 'memory', ['memory'], 0x8200_0000, 4),
    // shared memory: app got a copy (shareAlloc) and passed it on to srv
    frame('memory', 'app', ['memory'], 0x8102_0000, 4),
    frame('app', 'app', ['memory', 'app'], 0x8102_0000, 4),
    frame('srv', 'app', ['memory', 'app', 'srv'], 0x8102_0000, 4),
  ];
  const r = checkCapabilities(m, observed);
  assert.deepEqual(r.unexplained, []);
  assert.deepEqual(r.missing, []);
  assert.equal(formatCaps(r.lines), formatCaps(settledCapabilities(m, observed)));
  const extra = formatCaps(r.lines).split('\n').filter((l) => !formatCaps(expectedCapabilities(m)).split('\n').includes(l));
  assert.deepEqual(extra, [
    `app cspace Endpoint(svc:svc) W badge=${app}`,
    'app cspace Frame(quota:app, 4 pages) RWX',
    'memory cspace Frame(quota:app, 28 pages) RWX',
    'memory cspace Frame(quota:memory, 4 pages) RWX',
    'srv cspace Frame(quota:app, 4 pages) RWX',
  ]);
});

test('settled: a lookup outside uses, a quota frame in the wrong hands or beyond the quota, a missing grant are reported', () => {
  const m = manifest([...BASE, c('srv', { provides: [{ name: 'svc' }] }), c('app', { uses: ['svc'], memoryPages: 32 }), c('other')]);
  const boot = observedOf(expectedCapabilities(m));
  const observed = [
    ...boot.filter((l) => !(l.holder === 'app' && l.type === 'Task')), // a grant gone
    { holder: 'other', place: 'cspace', type: 'Endpoint', object: 'svc:svc', pages: null, rights: Rights.Write, badge: badgeOf(6) } as ObservedCap,
    frame('other', 'app', ['memory', 'other'], 0x8100_0000, 1), // the memory manager gave app's memory to other
    frame('srv', 'app', ['memory', 'app', 'other', 'srv'], 0x8101_0000, 1), // passed on twice
    frame('app', 'app', ['?', 'app'], 0x8102_0000, 1), // not from the memory manager's Untyped(app)
    frame('memory', 'other', ['memory'], 0x8200_0000, 16), // other's quota is 8 pages
    frame('memory', 'root', ['memory'], 0x8300_0000, 1), // the root task has no quota here
  ];
  assert.equal(quotaFrameViolation(m, observed[observed.length - 3]), 'not retyped by the memory manager from Untyped(app) (path ? > app)');
  const r = checkCapabilities(m, observed);
  assert.deepEqual(r.unexplained, [
    'app cspace Frame(quota:app, 1 pages) RWX',
    'memory cspace Frame(quota:other, 16 pages) RWX',
    'memory cspace Frame(quota:root, 1 pages) RWX',
    'other cspace Endpoint(svc:svc) W badge=7',
    'other cspace Frame(quota:app, 1 pages) RWX',
    'srv cspace Frame(quota:app, 1 pages) RWX',
  ]);
  assert.deepEqual(r.missing, ['app cspace Task(app) RW']);
});

test('ring-capable service: each client holds Notification(ring:C) RW; the driver may hold the copy a client passed on, nothing more', () => {
  const drv = c('drv', {
    devices: [{ kind: 'virtio', slot: 0, expect: 'blk', dma: [{ base: '0x8700_0000', pages: 4 }] }], irqs: [1],
    provides: [{ name: 'blk', grant: true, ring: true }],
  });
  const m = manifest([...BASE, drv, c('a', { uses: ['blk'] }), c('b', { uses: ['blk'] }), c('other')]);
  const e = expectedCapabilities(m);
  assert.deepEqual(linesOf(e, 'a').filter((l) => l.includes('Notification')), ['a cspace Notification(ring:a) RW']);
  assert.deepEqual(linesOf(e, 'other').filter((l) => l.includes('Notification')), []);
  assert.deepEqual(linesOf(e, 'drv').filter((l) => l.includes('ring:')), []);
  const copy = (holder: string, of: string, rights: number): ObservedCap =>
    ({ holder, place: 'cspace', type: 'Notification', object: `ring:${of}`, pages: null, rights, badge: 0 } as ObservedCap);
  const r = checkCapabilities(m, [...observedOf(e), copy('drv', 'a', Rights.Read | Rights.Write), copy('other', 'b', Rights.Write)]);
  assert.deepEqual(r.unexplained, ['other cspace Notification(ring:b) W']);
  assert.deepEqual(r.missing, []);
});
