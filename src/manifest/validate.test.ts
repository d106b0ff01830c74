// One test per kind of invalid manifest, each pinning its message, plus what a valid manifest
// turns into. The schema's kinds (unknown property, missing property, type, range, enum, const,
// pattern, array size, discriminator) come first, then the rules of rules.ts and rules-grants.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, ManifestError, type ParseOptions } from './validate.ts';
import { startOrder } from './rules.ts';
import { expectedCapabilities, formatCapLine } from './caps.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

const SCHED = { budgetUs: 1000, periodUs: 10000 };
const ON_FAILURE = { policy: 'on-failure', maxRestarts: 3, backoff: { initialMs: 10, maxMs: 1000 } };

/** A valid system: root 0, memory 1, supervisor 2, names 3, console 4, hello 5. */
function sys(): J {
  // Through JSON, not structuredClone: no two components may share a nested object.
  return JSON.parse(JSON.stringify({
    version: 1,
    components: [
      { name: 'root', role: 'root', image: 'user/root/main.ts', priority: 255, sched: { budgetUs: 10000, periodUs: 10000 }, memoryPages: 512 },
      { name: 'memory', role: 'memory-manager', image: 'user/memory/main.ts', priority: 250, sched: SCHED, memoryPages: 256 },
      { name: 'supervisor', role: 'supervisor', image: 'user/supervisor/main.ts', priority: 245, sched: SCHED, memoryPages: 64 },
      { name: 'names', role: 'name-service', image: 'user/names/main.ts', priority: 240, sched: SCHED, memoryPages: 64 },
      {
        name: 'console', image: 'user/console/main.ts', priority: 200, sched: SCHED, memoryPages: 64,
        devices: [{ kind: 'uart' }], irqs: [10], provides: [{ name: 'console' }], restart: ON_FAILURE,
      },
      { name: 'hello', image: 'user/hello/main.ts', priority: 100, sched: SCHED, memoryPages: 128, uses: ['console'], startAfter: ['console'] },
    ],
  }));
}

/** A task with nothing but the required fields. */
function task(name: string, extra: J = {}): J {
  return JSON.parse(JSON.stringify({ name, image: `user/${name}/main.ts`, priority: 50, sched: SCHED, memoryPages: 16, ...extra }));
}

const OPTS: ParseOptions = { baseDir: '/proj', isFile: (f) => !f.includes('missing') };

function parse(m: J, opts: Partial<ParseOptions> = {}) {
  return parseManifest(typeof m === 'string' ? m : JSON.stringify(m, null, 2), { ...OPTS, ...opts });
}

function refuses(m: J, message: string, opts: Partial<ParseOptions> = {}): ManifestError {
  let err: ManifestError | null = null;
  assert.throws(() => parse(m, opts), (e: unknown) => {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
    assert.equal(e.message, message);
    err = e;
    return true;
  });
  return err!;
}

// --- a valid manifest --------------------------------------------------------------------------

test('a valid manifest becomes typed components with defaults filled in', () => {
  const m = parse(sys());
  assert.equal(m.version, 1);
  assert.equal(m.description, null);
  assert.deepEqual(m.components.map((c) => c.role), ['root', 'memory-manager', 'supervisor', 'name-service', 'task', 'task']);
  const hello = m.components[5];
  assert.ok(hello.role === 'task');
  assert.deepEqual(hello.restart, { policy: 'never' });
  assert.deepEqual(hello.devices, []);
  assert.equal(hello.forwardsIrqsOf, null);
  assert.deepEqual(hello.irqs, []);
  assert.deepEqual(hello.image, { kind: 'assemblyscript', path: 'user/hello/main.ts', file: '/proj/user/hello/main.ts' });
  const console_ = m.components[4];
  assert.ok(console_.role === 'task');
  assert.deepEqual(console_.devices, [{ kind: 'uart', regs: 0x1000_0000, irq: 10 }]);
  assert.deepEqual(console_.provides, [{ name: 'console', description: null, clients: 'any', grant: false, ring: false, blockDevices: null, netDevices: null }]);
  assert.deepEqual(console_.restart, ON_FAILURE);
});

test('virtio devices: register page, IRQ and DMA windows (hexadecimal strings or numbers)', () => {
  const m0 = sys();
  m0.components.push(task('blk', {
    devices: [{ kind: 'virtio', slot: 2, expect: 'blk', dma: [{ base: '0x8700_0000', pages: 16 }, { base: 0x8710_0000, pages: 1 }] }],
    irqs: [3],
  }));
  const blk = parse(m0).components[6];
  assert.ok(blk.role === 'task');
  assert.deepEqual(blk.devices, [{
    kind: 'virtio', slot: 2, expect: 'blk', regs: 0x1000_3000, irq: 3,
    dma: [{ base: 0x8700_0000, pages: 16 }, { base: 0x8710_0000, pages: 1 }],
  }]);
});

test('the test device is a device without IRQ or DMA', () => {
  const m0 = sys();
  m0.components.push(task('off', { devices: [{ kind: 'testdev' }] }));
  assert.deepEqual(parse(m0).components[6], { ...parse(m0).components[6], devices: [{ kind: 'testdev', regs: 0x0010_0000 }] });
  m0.components.push(task('off2', { devices: [{ kind: 'testdev' }] }));
  refuses(m0, 'manifest: components[7].devices[0]: the test device is granted to both "off" (components[6].devices[0]) and "off2"');
});

test('prebuilt ELF images, and paths resolved against the base directory', () => {
  const m0 = sys();
  m0.components[5].image = './build/../bin/hello.elf';
  const hello = parse(m0, { baseDir: '/proj/' }).components[5];
  assert.deepEqual(hello.image, { kind: 'elf', path: './build/../bin/hello.elf', file: '/proj/bin/hello.elf' });
});

test('the image check asks about the resolved file, and can be switched off', () => {
  const asked: string[] = [];
  parse(sys(), { isFile: (f) => (asked.push(f), true) });
  assert.deepEqual(asked, ['root', 'memory', 'supervisor', 'names', 'console', 'hello'].map((n) => `/proj/user/${n}/main.ts`));
  const m0 = sys();
  m0.components[5].image = 'user/missing/main.ts';
  assert.doesNotThrow(() => parse(m0, { checkImages: false }));
});

test('start order: startAfter first, otherwise manifest order, root task excluded', () => {
  const m0 = sys();
  m0.components[3].startAfter = ['console'];
  assert.deepEqual(startOrder(parse(m0)), ['memory', 'supervisor', 'console', 'names', 'hello']);
});

test('a refusal carries the field path and where the field is in the text', () => {
  const m = sys();
  m.components[2].priority = 300;
  const e = refuses(m, 'manifest: components[2].priority: 300 is out of range 0..255');
  assert.equal(e.path, 'components[2].priority');
  assert.equal(e.reason, '300 is out of range 0..255');
  assert.ok(e.pos !== null && e.pos.line > 1);
  const text = JSON.stringify(sys(), null, 2).replace('"uses": [\n        "console"', '"uses": [\n        "consol"');
  const e2 = refuses(text, 'manifest: components[5].uses[0]: service "consol" is provided by no component (did you mean "console"?)');
  assert.equal(text.split('\n')[e2.pos!.line - 1].trim(), '"consol"');
});

// --- the schema: shape, types, ranges ----------------------------------------------------------

test('JSON syntax errors are refused with line and column', () => {
  refuses('{"version": 1,\n "components": [],\n}', 'manifest: JSON syntax error at line 3, column 1: trailing comma before "}" (JSON allows none)');
});

test('the top level must be an object', () => {
  refuses('[]', 'manifest: expected an object, got an array');
});

test('unknown property: a typo gets a suggestion', () => {
  const m = sys();
  m.components[4].prority = m.components[4].priority;
  delete m.components[4].priority;
  refuses(m, 'manifest: components[4].prority: unknown property (did you mean "priority"?)');
});

test('unknown property without a likely typo lists what is allowed', () => {
  const m = sys();
  m.components[5].sched.burst = 5;
  refuses(m, 'manifest: components[5].sched.burst: unknown property (allowed: budgetUs, periodUs)');
  const top = sys();
  top.kernel = {};
  refuses(top, 'manifest: kernel: unknown property (allowed: $schema, version, description, components)');
});

test('unknown property of one kind of a discriminated object', () => {
  const m = sys();
  m.components[5].restart = { policy: 'never', maxRestarts: 3 };
  refuses(m, 'manifest: components[5].restart.maxRestarts: unknown property for policy "never" (allowed: policy)');
  const d = sys();
  d.components[4].devices = [{ kind: 'uart', slot: 0 }];
  refuses(d, 'manifest: components[4].devices[0].slot: unknown property for kind "uart" (allowed: kind)');
});

test('missing required property', () => {
  const m = sys();
  delete m.components[3].image;
  refuses(m, 'manifest: components[3]: missing required property "image"');
  const top = sys();
  delete top.components;
  refuses(top, 'manifest: missing required property "components"');
});

test('missing required property of one kind of a discriminated object', () => {
  const m = sys();
  m.components[4].restart = { policy: 'on-failure', backoff: { initialMs: 1, maxMs: 2 } };
  refuses(m, 'manifest: components[4].restart: missing required property "maxRestarts" for policy "on-failure"');
});

test('missing or unknown discriminator', () => {
  const m = sys();
  m.components[4].devices = [{ slot: 1 }];
  refuses(m, 'manifest: components[4].devices[0]: missing required property "kind" (one of "uart", "testdev", "virtio")');
  m.components[4].devices = [{ kind: 'pci' }];
  refuses(m, 'manifest: components[4].devices[0].kind: "pci" is not one of "uart", "testdev", "virtio"');
  m.components[4].restart = { policy: 'on-falure' };
  m.components[4].devices = [{ kind: 'uart' }];
  refuses(m, 'manifest: components[4].restart.policy: "on-falure" is not one of "never", "always", "on-failure" (did you mean "on-failure"?)');
});

test('wrong type', () => {
  const m = sys();
  m.components[4].priority = '200';
  refuses(m, 'manifest: components[4].priority: expected an integer, got a string ("200")');
  const n = sys();
  n.components[4].memoryPages = 1.5;
  refuses(n, 'manifest: components[4].memoryPages: expected an integer, got 1.5');
  const a = sys();
  a.components[4].devices = { kind: 'uart' };
  refuses(a, 'manifest: components[4].devices: expected an array, got an object');
  const b = sys();
  b.components[4].devices[0] = null;
  refuses(b, 'manifest: components[4].devices[0]: expected an object, got null');
  const addr = sys();
  addr.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0, dma: [{ base: true, pages: 1 }] }] }));
  refuses(addr, 'manifest: components[6].devices[0].dma[0].base: expected an integer or a string, got true');
});

test('out of range: priority, quota, IRQ number, sched, restarts', () => {
  const m = sys();
  m.components[2].priority = 300;
  refuses(m, 'manifest: components[2].priority: 300 is out of range 0..255');
  const q = sys();
  q.components[4].memoryPages = 0;
  refuses(q, 'manifest: components[4].memoryPages: 0 is less than the minimum 1');
  const irq = sys();
  irq.components[4].irqs = [64];
  refuses(irq, 'manifest: components[4].irqs[0]: 64 is out of range 1..63');
  const s = sys();
  s.components[4].sched.periodUs = 0;
  refuses(s, 'manifest: components[4].sched.periodUs: 0 is out of range 1..60000000');
  const r = sys();
  r.components[4].restart = { ...ON_FAILURE, maxRestarts: 0 };
  refuses(r, 'manifest: components[4].restart.maxRestarts: 0 is out of range 1..1000');
  refuses(withDma([{ base: '0x8700_0000', pages: 2048 }]), 'manifest: components[6].devices[0].dma[0].pages: 2048 is out of range 1..1024');
});

test('not one of the allowed values', () => {
  const m = sys();
  m.components[4].role = 'driver';
  refuses(m, 'manifest: components[4].role: "driver" is not one of "root", "memory-manager", "name-service", "supervisor", "task"');
  const e = sys();
  e.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0, expect: 'gpu' }] }));
  refuses(e, 'manifest: components[6].devices[0].expect: "gpu" is not one of "blk", "net"');
});

test('unsupported version', () => {
  const m = sys();
  m.version = 2;
  refuses(m, 'manifest: version: must be 1, got 2');
});

test('malformed names, image paths and addresses', () => {
  const m = sys();
  m.components[5].name = 'Hello World';
  refuses(m, 'manifest: components[5].name: "Hello World" is not a valid name (lower-case letters, digits and "-", starting with a letter, at most 32 characters)');
  const i = sys();
  i.components[5].image = 'user/hello/main.js';
  refuses(i, 'manifest: components[5].image: "user/hello/main.js" is not a relative path ending in ".ts" (AssemblyScript source) or ".elf" (prebuilt RV32 image), with "/" separators');
  const abs = sys();
  abs.components[5].image = '/usr/hello.elf';
  refuses(abs, 'manifest: components[5].image: "/usr/hello.elf" is not a relative path ending in ".ts" (AssemblyScript source) or ".elf" (prebuilt RV32 image), with "/" separators');
  const a = sys();
  a.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0, dma: [{ base: '87000000', pages: 1 }] }] }));
  refuses(a, 'manifest: components[6].devices[0].dma[0].base: "87000000" is not a number or a hexadecimal string such as "0x8700_0000" ("_" may separate digits)');
});

test('empty lists that must not be', () => {
  const m = sys();
  m.components = [];
  refuses(m, 'manifest: components: must not be empty');
  const c = sys();
  c.components[4].provides[0].clients = [];
  refuses(c, 'manifest: components[4].provides[0].clients: must not be empty');
});

test('more DMA windows than the IOMMU has for a device', () => {
  const m = sys();
  const dma = Array.from({ length: 9 }, (_, k) => ({ base: 0x8700_0000 + k * 0x1000, pages: 1 }));
  m.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0, dma }] }));
  refuses(m, 'manifest: components[6].devices[0].dma: has 9 items, at most 8 allowed');
});

// --- rules on one component --------------------------------------------------------------------

test('two components with the same name', () => {
  const m = sys();
  m.components.push(task('console'));
  refuses(m, 'manifest: components[6].name: "console" is already the name of components[4]');
});

test('an image that does not exist', () => {
  const m = sys();
  m.components[5].image = 'user/missing/main.ts';
  refuses(m, 'manifest: components[5].image: "user/missing/main.ts" does not exist (looked for /proj/user/missing/main.ts)');
});

test('a budget larger than its period', () => {
  const m = sys();
  m.components[4].sched = { budgetUs: 20000, periodUs: 10000 };
  refuses(m, 'manifest: components[4].sched.budgetUs: 20000 is more than the period (10000 us)');
});

test('a backoff that starts above its maximum', () => {
  const m = sys();
  m.components[4].restart = { ...ON_FAILURE, backoff: { initialMs: 500, maxMs: 100 } };
  refuses(m, 'manifest: components[4].restart.backoff.initialMs: 500 is more than maxMs (100)');
});

test('an address that does not fit in 32 bits', () => {
  const m = sys();
  m.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0, dma: [{ base: '0x1_0000_0000', pages: 1 }] }] }));
  refuses(m, 'manifest: components[6].devices[0].dma[0].base: "0x1_0000_0000" does not fit in 32 bits');
});

test('the root task takes no grants', () => {
  const m = sys();
  m.components[0].devices = [{ kind: 'uart' }];
  refuses(m, 'manifest: components[0].devices: the root task takes no grants: it creates every capability and hands them out');
  const u = sys();
  u.components[0].uses = ['console'];
  refuses(u, 'manifest: components[0].uses: the root task takes no grants: it creates every capability and hands them out');
});

test('components that nothing could restart', () => {
  const r = sys();
  r.components[0].restart = ON_FAILURE;
  refuses(r, 'manifest: components[0].restart: the root task cannot be restarted (nothing runs before it)');
  const m = sys();
  m.components[1].restart = { policy: 'always', backoff: { initialMs: 1, maxMs: 1 } };
  refuses(m, 'manifest: components[1].restart: the memory manager cannot be restarted (the memory of every component would go with it)');
  const s = sys();
  s.components[2].restart = ON_FAILURE;
  refuses(s, 'manifest: components[2].restart: the supervisor cannot be restarted (nothing supervises it)');
});

// --- roles -------------------------------------------------------------------------------------

test('a role that can be held once, held twice', () => {
  const m = sys();
  m.components.push(task('sup2', { role: 'supervisor' }));
  refuses(m, 'manifest: components[6].role: there can be only one "supervisor", and "supervisor" (components[2]) is one already');
  const r = sys();
  r.components[5].role = 'root';
  delete r.components[5].uses;
  delete r.components[5].startAfter;
  refuses(r, 'manifest: components[5].role: there can be only one "root", and "root" (components[0]) is one already');
});

test('a required role that nobody has', () => {
  const m = sys();
  m.components.splice(0, 1);
  refuses(m, 'manifest: components: no component has role "root" (the first task, which builds the others); exactly one is needed');
  const mm = sys();
  mm.components[1].role = 'task';
  refuses(mm, 'manifest: components: no component has role "memory-manager" (it pages the other components); exactly one is needed');
});

test('a restart policy without a supervisor', () => {
  const m = sys();
  m.components.splice(2, 1);
  refuses(m, 'manifest: components[3].restart: policy "on-failure" needs a supervisor, and no component has role "supervisor"');
});

test('using a service without a name service', () => {
  const m = sys();
  m.components.splice(3, 1);
  refuses(m, 'manifest: components[4].uses: using a service needs a name service, and no component has role "name-service"');
});

// --- devices and IRQs --------------------------------------------------------------------------

test('a virtio slot the board does not have', () => {
  const m = sys();
  m.components[3].devices = [{ kind: 'virtio', slot: 9 }];
  refuses(m, 'manifest: components[3].devices[0]: virtio slot 9 does not exist (slots 0..7)');
  const small = sys();
  small.components[3].devices = [{ kind: 'virtio', slot: 2 }];
  refuses(small, 'manifest: components[3].devices[0]: virtio slot 2 does not exist (slots 0..1)', { board: { virtioSlots: 2 } });
});

test('a virtio slot that is empty on this board', () => {
  const m = sys();
  m.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 2 }] }));
  refuses(m, 'manifest: components[6].devices[0]: virtio slot 2 is empty on this board (slots with a device: 0 blk, 1 net)', { board: { virtio: ['blk', 'net'] } });
  assert.doesNotThrow(() => parse(m, { board: { virtio: [null, null, 'net'] } }));
});

test('a virtio slot holding another kind of device than expected', () => {
  const m = sys();
  m.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 1, expect: 'blk' }] }));
  refuses(m, 'manifest: components[6].devices[0].expect: virtio slot 1 holds a net device, not the blk device "blk" expects', { board: { virtio: ['blk', 'net'] } });
  assert.doesNotThrow(() => parse(m)); // slot contents unknown: not checked
});

test('a device granted twice', () => {
  const m = sys();
  m.components.push(task('sniffer', { devices: [{ kind: 'uart' }] }));
  refuses(m, 'manifest: components[6].devices[0]: the uart is granted to both "console" (components[4].devices[0]) and "sniffer"');
  const same = sys();
  same.components.push(task('blk', { devices: [{ kind: 'virtio', slot: 0 }, { kind: 'virtio', slot: 0 }] }));
  refuses(same, 'manifest: components[6].devices[1]: virtio slot 0 is granted twice to "blk" (devices[0] and devices[1])');
});

test('an IRQ that no device is wired to', () => {
  const m = sys();
  m.components[4].irqs = [10, 20];
  refuses(m, 'manifest: components[4].irqs[1]: IRQ 20 is wired to no device on this board (uart: 10, virtio slots 0..7: 1..8)');
});

test('an IRQ granted twice', () => {
  const m = sys();
  m.components.push(task('uart-sniffer', { irqs: [10] }));
  refuses(m, 'manifest: components[6].irqs[0]: IRQ 10 is granted to both "console" and "uart-sniffer"');
  const same = sys();
  same.components[4].irqs = [10, 10];
  refuses(same, 'manifest: components[4].irqs[1]: IRQ 10 is granted twice to "console" (irqs[0] and irqs[1])');
});

test('an IRQ whose device the component does not hold', () => {
  const m = sys();
  m.components[4].irqs = [10, 1];
  refuses(m, 'manifest: components[4].irqs[1]: IRQ 1 belongs to virtio slot 0, which "console" is not granted (add {"kind": "virtio", "slot": 0} to its devices)');
  const u = sys();
  u.components[4].irqs = [];
  u.components.push(task('sniffer', { irqs: [10] }));
  refuses(u, 'manifest: components[6].irqs[0]: IRQ 10 belongs to the uart, which "sniffer" is not granted (add {"kind": "uart"} to its devices)');
});

// --- DMA and memory ----------------------------------------------------------------------------

function withDma(...windows: { base: number | string; pages: number }[][]): J {
  const m = sys();
  windows.forEach((dma, slot) => m.components.push(task(`blk${slot}`, { devices: [{ kind: 'virtio', slot, dma }] })));
  return m;
}

test('a DMA window that is not one frame: size not a power of two, base not aligned to it', () => {
  refuses(withDma([{ base: '0x8700_0000', pages: 3 }]), 'manifest: components[6].devices[0].dma[0].pages: 3 is not a power of two (a DMA window is one frame: 1, 2, 4, ... pages)');
  refuses(withDma([{ base: '0x8700_0010', pages: 1 }]), "manifest: components[6].devices[0].dma[0].base: 0x8700_0010 is not aligned to the window's size (1 pages: a multiple of 0x1000)");
  refuses(withDma([{ base: '0x8700_1000', pages: 4 }]), "manifest: components[6].devices[0].dma[0].base: 0x8700_1000 is not aligned to the window's size (4 pages: a multiple of 0x4000)");
  assert.doesNotThrow(() => parse(withDma([{ base: '0x8700_4000', pages: 4 }])));
});

test('a DMA window outside DRAM', () => {
  refuses(withDma([{ base: '0x9000_0000', pages: 16 }]), 'manifest: components[6].devices[0].dma[0]: DMA window [0x9000_0000, 0x9001_0000) lies outside DRAM [0x8000_0000, 0x8800_0000)');
  refuses(withDma([{ base: '0x87e0_0000', pages: 512 }]), 'manifest: components[6].devices[0].dma[0]: DMA window [0x87e0_0000, 0x8800_0000) lies outside DRAM [0x8000_0000, 0x87f0_0000)', { board: { dramSize: 127 << 20 } });
  refuses(withDma([{ base: '0x1000_0000', pages: 1 }]), 'manifest: components[6].devices[0].dma[0]: DMA window [0x1000_0000, 0x1000_1000) lies outside DRAM [0x8000_0000, 0x8800_0000)');
  assert.doesNotThrow(() => parse(withDma([{ base: '0x8ff0_0000', pages: 256 }]), { board: { dramSize: 256 << 20 } }));
});

test('a DMA window in the reserved bottom of DRAM', () => {
  refuses(withDma([{ base: '0x807f_f000', pages: 1 }]), 'manifest: components[6].devices[0].dma[0]: DMA window [0x807f_f000, 0x8080_0000) overlaps the reserved bottom of DRAM [0x8000_0000, 0x8080_0000) (kernel, boot image and modules)');
  assert.doesNotThrow(() => parse(withDma([{ base: '0x8080_0000', pages: 1 }])));
});

test('overlapping DMA windows', () => {
  refuses(withDma([{ base: '0x8700_0000', pages: 16 }], [{ base: '0x8700_f000', pages: 1 }]),
    'manifest: components[7].devices[0].dma[0]: DMA window [0x8700_f000, 0x8701_0000) overlaps components[6].devices[0].dma[0] [0x8700_0000, 0x8701_0000)');
  refuses(withDma([{ base: '0x8700_0000', pages: 4 }, { base: '0x8700_2000', pages: 2 }]),
    'manifest: components[6].devices[0].dma[1]: DMA window [0x8700_2000, 0x8700_4000) overlaps components[6].devices[0].dma[0] [0x8700_0000, 0x8700_4000)');
  assert.doesNotThrow(() => parse(withDma([{ base: '0x8700_0000', pages: 1 }, { base: '0x8700_1000', pages: 1 }])));
});

test('memory quotas and DMA windows that do not fit in DRAM', () => {
  const m = withDma([0, 1, 2, 3].map((k) => ({ base: 0x8600_0000 + k * 0x40_0000, pages: 1024 })));
  m.components[5].memoryPages = 25000 + 648; // exactly the 30720 pages DRAM has to give
  assert.doesNotThrow(() => parse(m));
  m.components[5].memoryPages++;
  refuses(m, 'manifest: components: memory quotas (26625 pages) and DMA windows (4096 pages) need 30721 pages, but DRAM has 30720 to give (32768 pages, 2048 of them reserved)');
  assert.doesNotThrow(() => parse(m, { board: { dramSize: 256 << 20 } }));
});

// --- services ----------------------------------------------------------------------------------

test('a service provided twice', () => {
  const m = sys();
  m.components.push(task('console2', { provides: [{ name: 'console' }] }));
  refuses(m, 'manifest: components[6].provides[0].name: service "console" is already provided by "console" (components[4].provides[0])');
});

test('a service that nobody provides', () => {
  const m = sys();
  m.components[1].uses = ['blk0'];
  refuses(m, 'manifest: components[1].uses[0]: service "blk0" is provided by no component');
});

test('a component using its own service', () => {
  const m = sys();
  m.components[4].uses = ['console'];
  refuses(m, 'manifest: components[4].uses[0]: "console" uses its own service "console"');
});

test('a component the service does not allow', () => {
  const m = sys();
  m.components[4].provides[0].clients = ['shell', 'names'];
  m.components.push(task('shell'));
  refuses(m, 'manifest: components[5].uses[0]: "hello" may not use service "console": its clients are "shell", "names"');
});

test('a name listed twice in uses, startAfter or clients', () => {
  const u = sys();
  u.components[5].uses = ['console', 'console'];
  refuses(u, 'manifest: components[5].uses[1]: "console" is listed twice (also uses[0])');
  const s = sys();
  s.components[5].startAfter = ['console', 'names', 'console'];
  refuses(s, 'manifest: components[5].startAfter[2]: "console" is listed twice (also startAfter[0])');
  const c = sys();
  c.components[4].provides[0].clients = ['hello', 'hello'];
  refuses(c, 'manifest: components[4].provides[0].clients[1]: "hello" is listed twice (also clients[0])');
});

test('a component name that names no component', () => {
  const c = sys();
  c.components[4].provides[0].clients = ['helo'];
  refuses(c, 'manifest: components[4].provides[0].clients[0]: no component is named "helo" (did you mean "hello"?)');
  const s = sys();
  s.components[5].startAfter = ['keyboard'];
  refuses(s, 'manifest: components[5].startAfter[0]: no component is named "keyboard"');
});

// --- start order and capability spaces ---------------------------------------------------------

test('a cycle in the start order', () => {
  const m = sys();
  m.components[4].startAfter = ['hello'];
  refuses(m, 'manifest: components[5].startAfter: start order has a cycle: "console" starts after "hello", "hello" after "console"');
  const three = sys();
  three.components[1].startAfter = ['supervisor'];
  three.components[2].startAfter = ['names'];
  three.components[3].startAfter = ['memory'];
  refuses(three, 'manifest: components[3].startAfter: start order has a cycle: "memory" starts after "supervisor", "supervisor" after "names", "names" after "memory"');
  const self = sys();
  self.components[5].startAfter = ['hello'];
  refuses(self, 'manifest: components[5].startAfter: start order has a cycle: "hello" starts after "hello"');
});

test('more boot capabilities than a capability space holds', () => {
  const m = sys();
  m.components[4].provides.push(...Array.from({ length: 249 }, (_, k) => ({ name: `svc${k}` })));
  assert.doesNotThrow(() => parse(m)); // 255: full
  m.components[4].provides.push({ name: 'one-more' });
  refuses(m, 'manifest: components[4]: "console" would hold 256 capabilities at boot, more than the 255 its capability space has room for');
});

test('virtual block devices: one per client of a blk driver\'s first service, overlapping only read-only', () => {
  /** sys() + blk 6 (virtio slot 0, blk service) + a 7, b 8 using it. */
  const blk = (devs: J[] | undefined, extra: J = {}): J => {
    const m = sys();
    m.components.push(task('blk', {
      devices: [{ kind: 'virtio', slot: 0, expect: 'blk', dma: [{ base: '0x8700_0000', pages: 4 }] }], irqs: [1],
      provides: [{ name: 'blk', grant: true, ...(devs === undefined ? {} : { blockDevices: devs }) }], ...extra,
    }));
    m.components.push(task('a', { uses: ['blk'] }), task('b', { uses: ['blk'] }));
    return m;
  };
  const ok = parse(blk([{ client: 'a', firstSector: 0, sectors: 100 }, { client: 'b', firstSector: 100, readOnly: true }]));
  const svc = (m: ReturnType<typeof parse>): unknown => { const c = m.components[6]; return c.role === 'root' ? undefined : c.provides[0].blockDevices; };
  assert.deepEqual(svc(ok), [
    { client: 'a', firstSector: 0, sectors: 100, readOnly: false },
    { client: 'b', firstSector: 100, sectors: null, readOnly: true },
  ]);
  assert.equal(svc(parse(blk(undefined))), null);
  // Read-only devices may overlap; whole disks too, if all are read-only.
  assert.doesNotThrow(() => parse(blk([{ client: 'a', readOnly: true }, { client: 'b', readOnly: true }])));
  refuses(blk([{ client: 'a', sectors: 100 }, { client: 'b', firstSector: 99, sectors: 10, readOnly: true }]),
    'manifest: components[6].provides[0].blockDevices[1]: "b" [99, 109) overlaps "a" [0, 100) (blockDevices[0]); virtual block devices may overlap only if all of them are read-only');
  refuses(blk([{ client: 'a', firstSector: 5000, readOnly: true }, { client: 'b', firstSector: 0, sectors: 5001 }]),
    'manifest: components[6].provides[0].blockDevices[1]: "b" [0, 5001) overlaps "a" [5000, end of disk) (blockDevices[0]); virtual block devices may overlap only if all of them are read-only');
  refuses(blk([{ client: 'a', sectors: 1 }]), 'manifest: components[6].provides[0].blockDevices: "b" uses service "blk" but has no virtual block device here');
  refuses(blk([{ client: 'a', sectors: 1 }, { client: 'b', firstSector: 1 }, { client: 'a', firstSector: 9 }]),
    'manifest: components[6].provides[0].blockDevices[2].client: "a" has a virtual block device already (blockDevices[0])');
  refuses(blk([{ client: 'a', sectors: 1 }, { client: 'hello', firstSector: 1 }]),
    'manifest: components[6].provides[0].blockDevices[1].client: "hello" does not use service "blk"');
  refuses(blk([{ client: 'a', sectors: 1 }, { client: 'nobody', firstSector: 1 }]),
    'manifest: components[6].provides[0].blockDevices[1].client: no component is named "nobody"');
  refuses(blk([{ client: 'a', firstSector: 0xffff_fff0, sectors: 0x10 }, { client: 'b', sectors: 1 }]),
    'manifest: components[6].provides[0].blockDevices[0].sectors: the device ends at sector 4294967296, past the driver\'s 32-bit sector numbers');
  refuses(blk([{ client: 'a', sectors: 0 }]), 'manifest: components[6].provides[0].blockDevices[0].sectors: 0 is out of range 1..4294967294');
  const notRing = sys();
  notRing.components[4].provides[0].ring = true;
  refuses(notRing, 'manifest: components[4].provides[0].ring: only the first service of a virtio-blk or virtio-net driver (a component with a virtio device expecting "blk" or "net" and a DMA window) is ring-capable');
  const notBlk = sys();
  notBlk.components[4].provides[0].blockDevices = [{ client: 'hello' }];
  refuses(notBlk, 'manifest: components[4].provides[0].blockDevices: only the first service of a virtio-blk driver (a component with a virtio device expecting "blk" and a DMA window) has virtual block devices');
});

test('network devices: a MAC address per client of a virtio-net driver\'s first service, unicast and unique; an IRQ forwarder per driver', () => {
  /** sys() + net 6 (virtio slot 0) + its forwarder net-irq 7 + a 8, b 9 using it; `svc` and
   *  `fwd` override the service's and the forwarder's fields. */
  const net = (devs: J[] | undefined, svc: J = {}, fwd: J | null = {}): J => {
    const m = sys();
    m.components.push(task('net', {
      devices: [{ kind: 'virtio', slot: 0, expect: 'net', dma: [{ base: '0x8700_0000', pages: 64 }] }], irqs: [1],
      provides: [{ name: 'net', grant: true, ring: true, ...(devs === undefined ? {} : { netDevices: devs }), ...svc }],
    }));
    m.components.push(fwd === null ? task('net-irq') : task('net-irq', { forwardsIrqsOf: 'net', ...fwd }));
    m.components.push(task('a', { uses: ['net'] }), task('b', { uses: ['net'] }));
    return m;
  };
  const both = [{ client: 'a', mac: '02:00:00:00:00:0A' }, { client: 'b', mac: '02:00:00:00:00:0b' }];
  const ok = parse(net(both));
  const c6 = ok.components[6];
  assert.ok(c6.role === 'task');
  assert.deepEqual(c6.provides[0].netDevices, [{ client: 'a', mac: '02:00:00:00:00:0a' }, { client: 'b', mac: '02:00:00:00:00:0b' }]);
  const c7 = ok.components[7];
  assert.ok(c7.role === 'task');
  assert.equal(c7.forwardsIrqsOf, 'net');
  // Shape: six hexadecimal bytes.
  refuses(net([{ client: 'a', mac: '02:00:00:00:00' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[0].mac: "02:00:00:00:00" is not a MAC address: six hexadecimal bytes separated by ":", such as "02:00:00:00:01:01"');
  refuses(net([{ client: 'a', mac: '02-00-00-00-00-0a' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[0].mac: "02-00-00-00-00-0a" is not a MAC address: six hexadecimal bytes separated by ":", such as "02:00:00:00:01:01"');
  // Unicast, not zero, unique on the switch (also across drivers, compared without case).
  refuses(net([{ client: 'a', mac: '01:00:5e:00:00:01' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[0].mac: "01:00:5e:00:00:01" is a multicast address (the low bit of its first byte is set); a client\'s address must be unicast');
  refuses(net([{ client: 'a', mac: 'ff:ff:ff:ff:ff:ff' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[0].mac: "ff:ff:ff:ff:ff:ff" is a multicast address (the low bit of its first byte is set); a client\'s address must be unicast');
  refuses(net([{ client: 'a', mac: '00:00:00:00:00:00' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[0].mac: "00:00:00:00:00:00" is not an address');
  refuses(net([{ client: 'a', mac: '02:00:00:00:00:0B' }, both[1]]),
    'manifest: components[6].provides[0].netDevices[1].mac: "02:00:00:00:00:0b" is already the address of "a" (components[6].provides[0].netDevices[0].mac); addresses are unique on the switch');
  // One entry per client, for clients only.
  refuses(net([both[0]]), 'manifest: components[6].provides[0].netDevices: "b" uses service "net" but has no MAC address here');
  refuses(net([...both, { client: 'a', mac: '02:00:00:00:00:0c' }]),
    'manifest: components[6].provides[0].netDevices[2].client: "a" has a MAC address already (netDevices[0])');
  refuses(net([...both, { client: 'hello', mac: '02:00:00:00:00:0c' }]),
    'manifest: components[6].provides[0].netDevices[2].client: "hello" does not use service "net"');
  refuses(net([...both, { client: 'nobody', mac: '02:00:00:00:00:0c' }]),
    'manifest: components[6].provides[0].netDevices[2].client: no component is named "nobody"');
  // Required, with a ring-capable grant service.
  refuses(net(undefined), 'manifest: components[6].provides[0]: the service of a virtio-net driver (a component with a virtio device expecting "net" and a DMA window) needs "netDevices": the MAC address of each client ("a", "b")');
  refuses(net(both, { ring: false }), 'manifest: components[6].provides[0]: the service of a virtio-net driver (a component with a virtio device expecting "net" and a DMA window) must be ring-capable ("ring": true): its clients wait on their notification for received frames, with either interface');
  refuses(net(both, { grant: false }), 'manifest: components[6].provides[0]: the service of a virtio-net driver (a component with a virtio device expecting "net" and a DMA window) must be "grant": true: its clients connect by passing their data frame and notification');
  const notNet = sys();
  notNet.components[4].provides[0].netDevices = [{ client: 'hello', mac: '02:00:00:00:00:01' }];
  refuses(notNet, 'manifest: components[4].provides[0].netDevices: only the first service of a virtio-net driver (a component with a virtio device expecting "net" and a DMA window) has network devices');
  // The IRQ forwarder: one per driver, of a net driver, holding nothing else.
  refuses(net(both, {}, null), 'manifest: components[6]: the virtio-net driver "net" needs an IRQ forwarder: a component with "forwardsIrqsOf": "net" running its image (it waits on its endpoint; the forwarder waits for its interrupts)');
  refuses(net(both, {}, { forwardsIrqsOf: 'console' }), 'manifest: components[7].forwardsIrqsOf: "console" is not a virtio-net driver with an IRQ and a service; only such a driver has an IRQ forwarder');
  refuses(net(both, {}, { forwardsIrqsOf: 'nett' }), 'manifest: components[7].forwardsIrqsOf: no component is named "nett" (did you mean "net"?)');
  refuses(net(both, {}, { forwardsIrqsOf: 'net-irq' }), 'manifest: components[7].forwardsIrqsOf: "net-irq" cannot forward its own interrupts');
  refuses(net(both, {}, { uses: ['console'] }), 'manifest: components[7].uses: "net-irq" is an IRQ forwarder (forwardsIrqsOf "net") and holds nothing else');
  const twice = net(both);
  twice.components.push(task('net-irq2', { forwardsIrqsOf: 'net' }));
  refuses(twice, 'manifest: components[10].forwardsIrqsOf: "net" has an IRQ forwarder already: "net-irq"');
  const rootFwd = net(both);
  rootFwd.components[0].forwardsIrqsOf = 'net';
  refuses(rootFwd, 'manifest: components[0].forwardsIrqsOf: the root task takes no grants: it creates every capability and hands them out');
  // The forwarder's capabilities: the driver's interrupt notification (R) and its endpoint (W).
  const lines = expectedCapabilities(ok).filter((l) => l.holder === 'net-irq' && l.place === 'cspace' && l.type !== 'Task' && l.object !== 'pager').map(formatCapLine);
  assert.deepEqual(lines, ['net-irq cspace Notification(irq:net) R', 'net-irq cspace Endpoint(svc:net) W']);
});
