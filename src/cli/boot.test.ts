// `l4ts boot`: the default system end to end — images built (cached in build/boot-cache), the
// root task interprets the boot plan, hello prints through the console driver, and the live
// capability distribution equals the one the manifest implies: at boot (the root task's grants)
// and after the system settles (plus what the manifest permits to arise: lookups, quota frames).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, ManifestError } from '../manifest/validate.ts';
import { expectedCapabilities, formatCaps, settledCapabilities } from '../manifest/caps.ts';
import type { Manifest } from '../manifest/types.ts';
import { capDerive } from '../kernel/cspace.ts';
import type { Cap } from '../kernel/objects/cap.ts';
import type { Task } from '../kernel/objects/task.ts';
import { debugNameOf } from '../kernel/debug.ts';
import { buildImages, bootSystem, runUntilRootDone, runUntilSettled, liveCaps, checkLiveCaps, observedCaps, loadManifest, manifestBaseDir, DEFAULT_MANIFEST, PROJECT_ROOT, type BootedSystem } from './boot.ts';

const STUB = 'user/tests/boot/stub.ts';

function defaultSystem() {
  return parseManifest(readFileSync(DEFAULT_MANIFEST, 'utf8'), { baseDir: PROJECT_ROOT });
}

test('boot: the default system builds, hello prints through the console driver, --caps matches the manifest', async () => {
  const m = defaultSystem();
  const images = await buildImages(m);
  // Images paged in by the memory manager (the default), and loaded by the root task (--eager).
  for (const eager of ['memory-manager', 'all'] as const) {
    const diag: string[] = [];
    const sys = bootSystem(m, images, { eager, diag: (s) => diag.push(s) });
    let uart = '';
    sys.board.onUartOutput((b) => { uart += String.fromCharCode(b); });

    // The distribution the root task handed out, read from the kernel the moment it finishes.
    assert.ok(runUntilRootDone(sys, 50_000_000), `root task did not finish: ${diag.join('')} ${sys.kernel.lastKill}`);
    const rootInsns = sys.board.hart.instret;
    assert.equal(liveCaps(sys), formatCaps(expectedCapabilities(m)));
    assert.ok(rootInsns < 5_000_000, `root task took ${rootInsns} instructions`);

    // Then the system runs and settles (idles once hello has exited): hello's line comes out of
    // the UART, written by the console driver.
    assert.equal(runUntilSettled(sys, 200_000_000), 'idle', diag.join(''));
    assert.match(uart, /\[hello\] Hello, world!/, `eager ${eager}: UART: ${uart}\ndiagnostics: ${diag.join('')}`);
    assert.doesNotMatch(diag.join(''), /killed:|abort:/, diag.join(''));

    // The settled distribution is exactly what the manifest grants and permits.
    const printed = liveCaps(sys);
    assert.equal(printed, formatCaps(settledCapabilities(m, observedCaps(sys))), `eager ${eager}`);
    const check = checkLiveCaps(sys);
    assert.deepEqual([check.unexplained, check.missing], [[], []]);
    assertDefaultSettled(m, printed);
  }
});

/** What the default system holds once settled beyond the root task's grants: hello's copy of
 *  the console endpoint (its lookup), and the frames the memory manager retyped from each quota
 *  (at most the quota, RWX, in the memory manager's capability space). */
function assertDefaultSettled(m: Manifest, printed: string): void {
  const boot = new Set(formatCaps(expectedCapabilities(m)).trimEnd().split('\n'));
  const lines = printed.trimEnd().split('\n');
  for (const l of boot) assert.ok(lines.includes(l), `missing ${l}`);
  const extra = lines.filter((l) => !boot.has(l));
  const lookup = 'hello cspace Endpoint(svc:console) W badge=6';
  assert.ok(extra.includes(lookup), extra.join('\n'));
  for (const l of extra) {
    if (l === lookup) continue;
    const q = /^memory cspace Frame\(quota:(\w+), (\d+) pages\) RWX$/.exec(l);
    assert.ok(q !== null, `unexpected ${l}`);
    const c = m.components.find((x) => x.name === q[1]);
    assert.ok(c !== undefined && c.role !== 'root' && Number(q[2]) > 0 && Number(q[2]) <= c.memoryPages, l);
  }
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}


test('boot --caps: the command prints the settled distribution, read from the kernel and explained by the manifest; --caps=boot the root task\'s grants', async () => {
  const m = loadManifest(DEFAULT_MANIFEST);
  const r = await runCli(['boot', '--caps']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /caps: (unexplained|missing)/);
  assertDefaultSettled(m, r.stdout);
  assert.match(r.stderr, /l4ts: exit=0 insns=\d+/);
  const b = await runCli(['boot', '--caps=boot']);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout, formatCaps(expectedCapabilities(m)));
});

function taskOf(sys: BootedSystem, name: string): Task {
  const t = [...sys.kernel.tasks].find((x) => debugNameOf(x) === name);
  assert.ok(t !== undefined, name);
  return t;
}

function slotWhere(t: Task, f: (c: Cap) => boolean): number {
  return t.cspace.findIndex((c) => c !== null && f(c));
}

function freeSlot(t: Task): number {
  for (let s = t.cspace.length - 1; s > 0; s--) if (t.cspace[s] === null) return s;
  throw new Error('no free slot');
}

test('boot --caps: capabilities the manifest does not explain are reported (injected after settling)', async () => {
  const m = loadManifest(DEFAULT_MANIFEST);
  const sys = bootSystem(m, await buildImages(m));
  assert.ok(runUntilRootDone(sys, 50_000_000));
  assert.equal(runUntilSettled(sys, 200_000_000), 'idle');
  assert.deepEqual(checkLiveCaps(sys).unexplained, []);
  const k = sys.kernel;
  const memory = taskOf(sys, 'memory');
  const names = taskOf(sys, 'names');
  const supervisor = taskOf(sys, 'supervisor');
  const hello = taskOf(sys, 'hello');
  const consoleTask = taskOf(sys, 'console');
  const all = 0xf;

  // A frame the memory manager retyped from hello's quota.
  const helloFrame = slotWhere(memory, (c) => c.obj.kind === 'frame' && c.obj.untyped !== null && debugNameOf(c.obj.untyped) === 'hello');
  assert.ok(helloFrame > 0);
  const pages = (memory.cspace[helloFrame]!.obj as { pages: number }).pages;

  // Permitted: hello gets a copy of its own memory (as shareAlloc gives) and passes it on.
  const h = freeSlot(hello);
  assert.equal(capDerive(k, memory, helloFrame, hello, h, all, null), 0);
  assert.equal(capDerive(k, hello, h, consoleTask, freeSlot(consoleTask), all, null), 0);
  let check = checkLiveCaps(sys);
  assert.deepEqual([check.unexplained, check.missing], [[], []]);
  assert.match(liveCaps(sys), new RegExp(`^console cspace Frame\\(quota:hello, ${pages} pages\\) RWX$`, 'm'));

  // Not permitted: the memory manager hands hello's memory to the supervisor, and the
  // supervisor holds a service endpoint it may not look up (a copy of the name service's).
  assert.equal(capDerive(k, memory, helloFrame, supervisor, freeSlot(supervisor), all, null), 0);
  const svc = slotWhere(names, (c) => debugNameOf(c.obj) === 'svc:console');
  assert.equal(capDerive(k, names, svc, supervisor, freeSlot(supervisor), all, null), 0);
  check = checkLiveCaps(sys);
  assert.deepEqual(check.unexplained, [
    'supervisor cspace Endpoint(svc:console) W badge=6',
    `supervisor cspace Frame(quota:hello, ${pages} pages) RWX`,
  ]);
  assert.deepEqual(check.missing, []);
  assert.notEqual(liveCaps(sys), formatCaps(settledCapabilities(m, observedCaps(sys))));
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
