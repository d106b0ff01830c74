import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rights } from '../abi/caps.ts';
import { parseManifest } from './validate.ts';
import { expectedCapabilities, formatCapLine, formatCaps, rightsString, badgeOf, type CapLine } from './caps.ts';

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

test('the supervisor holds the thread and task of each component it restarts, and nothing of others', () => {
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
    'sup cspace Thread(a) RW',
    'sup cspace Task(a) W',
  ]);
  assert.ok(!lines.some((l) => l.holder === 'b' && l.place === 'exception-handler'));
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
