// `l4ts boot`: the default system end to end — images built (cached in build/boot-cache), the
// root task interprets the boot plan, hello prints through the console driver, and the live
// capability distribution equals the one the manifest implies. While a system component of the
// default manifest has no source yet, a stand-in (user/tests/boot/stub.ts) takes its place.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, ManifestError } from '../manifest/validate.ts';
import { expectedCapabilities, formatCaps } from '../manifest/caps.ts';
import { debugNameOf } from '../kernel/debug.ts';
import { buildImages, bootSystem, runUntilRootDone, liveCaps, loadManifest, manifestBaseDir, DEFAULT_MANIFEST, PROJECT_ROOT } from './boot.ts';

const STUB = 'user/tests/boot/stub.ts';

function defaultSystem() {
  const j = JSON.parse(readFileSync(DEFAULT_MANIFEST, 'utf8')) as { components: { image: string }[] };
  const stubbed: string[] = [];
  for (const c of j.components) {
    if (!existsSync(join(PROJECT_ROOT, c.image))) {
      stubbed.push(c.image);
      c.image = STUB;
    }
  }
  return { m: parseManifest(JSON.stringify(j), { baseDir: PROJECT_ROOT }), stubbed };
}

test('boot: the default system builds, hello prints through the console driver, --caps matches the manifest', async () => {
  const { m, stubbed } = defaultSystem();
  const images = await buildImages(m);
  const mm = m.components.find((c) => c.role === 'memory-manager')!;
  // Images paged in by the memory manager (the default), and loaded by the root task (--eager).
  const modes = stubbed.includes(mm.image.path) ? (['all'] as const) : (['memory-manager', 'all'] as const);
  for (const eager of modes) {
    const diag: string[] = [];
    const sys = bootSystem(m, images, { eager, diag: (s) => diag.push(s) });
    let uart = '';
    sys.board.onUartOutput((b) => { uart += String.fromCharCode(b); });

    // The distribution the root task handed out, read from the kernel the moment it finishes.
    assert.ok(runUntilRootDone(sys, 50_000_000), `root task did not finish: ${diag.join('')} ${sys.kernel.lastKill}`);
    const rootInsns = sys.board.hart.instret;
    assert.equal(liveCaps(sys), formatCaps(expectedCapabilities(m)));
    assert.ok(rootInsns < 5_000_000, `root task took ${rootInsns} instructions`);

    // Then the system runs: hello's line comes out of the UART, written by the console driver.
    sys.board.run(200_000_000);
    const hello = m.components.find((c) => c.name === 'hello')!;
    const consoleC = m.components.find((c) => c.name === 'console')!;
    if (!stubbed.includes(hello.image.path) && !stubbed.includes(consoleC.image.path)) {
      assert.match(uart, /\[hello\] Hello, world!/, `eager ${eager}: UART: ${uart}\ndiagnostics: ${diag.join('')}`);
    }
    assert.doesNotMatch(diag.join(''), /killed:|abort:/, diag.join(''));
  }
});

test('boot --caps: the command prints the distribution of the manifest, read from the kernel', { skip: defaultSystem().stubbed.length > 0 ? 'a component of the default manifest has no source yet' : false }, async () => {
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), 'boot', '--caps'], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, formatCaps(expectedCapabilities(loadManifest(DEFAULT_MANIFEST))));
  assert.match(r.stderr, /l4ts: exit=0 insns=\d+/);
});

test('boot: an invalid manifest is refused before boot, naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-boot-'));
  const j = JSON.parse(readFileSync(DEFAULT_MANIFEST, 'utf8')) as { components: { priority: number }[] };
  j.components[4].priority = 300;
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify(j, null, 2));
  assert.throws(() => loadManifest(bad), (e: unknown) => e instanceof ManifestError && /components\[4\]\.priority: 300 is out of range 0\.\.255/.test(e.message));
  const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), 'boot', bad], (err, _out, stderr) => res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stderr }));
  });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /components\[4\]\.priority: 300 is out of range 0\.\.255/);
  assert.doesNotMatch(r.stderr, /built|insns=/); // refused before building or booting
});

test('boot: image paths are relative to the project root for manifests/*.json', () => {
  assert.equal(manifestBaseDir(DEFAULT_MANIFEST), PROJECT_ROOT.replace(/\/$/, ''));
  assert.equal(manifestBaseDir('/x/y/sys.json'), '/x/y');
});

test('boot: the name service hands out allowed endpoints (badged, without Grant) and refuses the rest; DMA frames at their addresses', async () => {
  const sched = { budgetUs: 1000, periodUs: 10000 };
  const comp = (name: string, image: string, extra: object = {}) => ({ name, image, priority: 100, sched, memoryPages: 16, ...extra });
  const m = parseManifest(JSON.stringify({
    version: 1,
    components: [
      comp('root', 'user/root/main.ts', { role: 'root', priority: 255 }),
      comp('memory', STUB, { role: 'memory-manager', priority: 250 }),
      comp('names', 'user/names/main.ts', { role: 'name-service', priority: 240 }),
      comp('srv', STUB, {
        provides: [{ name: 'alpha' }, { name: 'beta', clients: ['other'] }],
        // A driver's grants too: DMA frames are carved at their exact address.
        devices: [{ kind: 'virtio', slot: 2, dma: [{ base: '0x8100_0000', pages: 4 }, { base: '0x8120_0000', pages: 1 }] }, { kind: 'testdev' }],
        irqs: [3],
      }),
      comp('client', 'user/tests/boot/names-client.ts', { uses: ['alpha'] }),
      comp('other', STUB, { uses: ['beta'] }),
    ],
  }), { baseDir: PROJECT_ROOT });
  const images = await buildImages(m);
  let diag = '';
  // The stand-in memory manager pages nothing: the root task loads every image.
  const sys = bootSystem(m, images, { eager: 'all', diag: (s) => { diag += s; } });
  assert.ok(runUntilRootDone(sys, 50_000_000), diag);
  assert.equal(liveCaps(sys), formatCaps(expectedCapabilities(m)));
  const srv = [...sys.kernel.tasks].find((t) => debugNameOf(t) === 'srv')!;
  const frames = srv.cspace.filter((c) => c !== null && c.obj.kind === 'frame' && !c.obj.device).map((c) => c!.obj as { pa: number; pages: number });
  assert.deepEqual(frames.map((f) => [f.pa >>> 0, f.pages]), [[0x8100_0000, 4], [0x8120_0000, 1]]);
  sys.board.run(100_000_000);
  // alpha: the slot; beta: NotAllowed (1); zeta: NoSuchService (2); register: NotProvider (4);
  // the endpoint: type Endpoint (4), rights W (2: no Grant), the client's badge (5).
  assert.match(diag, /\[client\] names-client: alpha=20 beta=-1 zeta=-2 register=4 type=4 rights=2 badge=5/, diag);
});
