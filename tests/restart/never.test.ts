// A refused page fault of a component with restart policy `never` (or none) on the booted
// system: the default system plus user/tests/restart/wild.ts ("wild"), which writes through a
// wild pointer (0x70000000, far outside its heap) as soon as it starts. Hello starts after it,
// so its greeting shows that the system carries on. With a supervisor, the memory manager's
// report (supervisor.memFault) makes the supervisor log it and stop wild for good (it holds
// Thread(wild) W for that, and nothing else of wild's); without one, the memory manager logs it
// itself, once. Either way `l4ts boot` settles and exits 0, as for a component that exits, is
// killed by the kernel, or that the supervisor gave up on (README, "Exit status of `boot`").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/validate.ts';
import { expectedCapabilities, formatCapLine } from '../../src/manifest/caps.ts';
import { buildImages, bootSystem, runUntilSettled, checkLiveCaps, DEFAULT_MANIFEST, PROJECT_ROOT, type BootedSystem } from '../../src/cli/boot.ts';
import { debugNameOf } from '../../src/kernel/debug.ts';
import { TS_INACTIVE } from '../../src/kernel/objects/thread.ts';

interface Json { components: Record<string, unknown>[]; [k: string]: unknown }

const WILD = {
  name: 'wild',
  description: 'Writes through a wild pointer as soon as it starts.',
  image: 'user/tests/restart/wild.ts',
  priority: 150,
  sched: { budgetUs: 2000, periodUs: 10000 },
  memoryPages: 64,
};

/** The default manifest plus wild (restart policy `never` given explicitly, or left out), hello
 *  started after it; `supervisor: false` drops the supervisor and every restart policy. */
function manifestJson(supervisor: boolean, explicitNever: boolean): Json {
  const j = JSON.parse(readFileSync(DEFAULT_MANIFEST, 'utf8')) as Json;
  const wild: Record<string, unknown> = { ...WILD };
  if (explicitNever) wild.restart = { policy: 'never' };
  j.components.push(wild);
  for (const c of j.components) {
    if (c.name === 'hello') c.startAfter = ['console', 'wild'];
    if (!supervisor) delete c.restart;
  }
  if (!supervisor) j.components = j.components.filter((c) => c.role !== 'supervisor');
  return j;
}

async function boot(j: Json): Promise<{ sys: BootedSystem; diag: () => string; uart: () => string; settled: string }> {
  const m = parseManifest(JSON.stringify(j), { baseDir: PROJECT_ROOT });
  const diag: string[] = [];
  const sys = bootSystem(m, await buildImages(m), { diag: (s) => diag.push(s) });
  let uart = '';
  sys.board.onUartOutput((b) => { uart += String.fromCharCode(b); });
  const settled = runUntilSettled(sys, 200_000_000);
  return { sys, diag: () => diag.join(''), uart: () => uart, settled };
}

function wildThreadState(sys: BootedSystem): number {
  const task = [...sys.kernel.tasks].find((x) => debugNameOf(x) === 'wild');
  assert.ok(task !== undefined && task.threads.length === 1);
  return task.threads[0]!.state;
}

const HELLO = '[hello] Hello, world! from a user task, through the console driver.';

test('restart policy never: the supervisor reports the refused page fault once and stops the component; the rest carries on; --caps stays exact', { timeout: 600_000 }, async () => {
  for (const explicitNever of [true, false]) {
    const j = manifestJson(true, explicitNever);
    const { sys, diag, uart, settled } = await boot(j);
    const log = diag();
    assert.equal(settled, 'idle', log);
    assert.match(log, /\[wild\] writing through a wild pointer\n/);
    assert.doesNotMatch(log, /still running after the wild write/);
    const reports = log.split('\n').filter((l) => l.includes('wild:'));
    assert.equal(reports.length, 2, log);
    assert.match(reports[0]!, /^\[supervisor\] wild: write page fault at 0x70000000 \(pc 0x[0-9a-f]+\) refused by the memory manager: not in its memory \(generation 1\)$/);
    assert.equal(reports[1], '[supervisor] wild: stopped for good (generation 1, policy never)');
    assert.match(log, /\[supervisor\] supervising 2: console \(on-failure\), hello \(on-failure\); refused page faults of: names, wild \(never restarted\)\n/);
    assert.doesNotMatch(log, /\[memory\]/);
    assert.equal(wildThreadState(sys), TS_INACTIVE, 'wild is stopped, not left blocked on its fault');
    assert.ok(uart().includes(HELLO), `${uart()}\n${log}`);
    // Who holds what: the supervisor Thread(wild) W (to stop it) and nothing else of wild's;
    // wild has no exception handler (its runtime calls stay semihosted).
    const m = parseManifest(JSON.stringify(j), { baseDir: PROJECT_ROOT });
    const granted = expectedCapabilities(m).map(formatCapLine);
    assert.ok(granted.includes('supervisor cspace Thread(wild) W'));
    assert.ok(granted.includes('supervisor cspace Thread(names) W'));
    assert.ok(!granted.some((l) => /Task\(wild\)/.test(l) && l.startsWith('supervisor ')));
    assert.ok(!granted.some((l) => l.startsWith('wild exception-handler')));
    const check = checkLiveCaps(sys);
    assert.deepEqual([check.unexplained, check.missing], [[], []]);
    assert.ok(check.lines.map(formatCapLine).includes('supervisor cspace Thread(wild) W'));
  }
});

test('no supervisor: the memory manager reports the refused page fault itself, once; the rest carries on', { timeout: 600_000 }, async () => {
  const { sys, diag, uart, settled } = await boot(manifestJson(false, false));
  const log = diag();
  assert.equal(settled, 'idle', log);
  const reports = log.split('\n').filter((l) => l.includes('wild:'));
  assert.deepEqual(reports.length, 1, log);
  assert.match(reports[0]!, /^\[memory\] wild: write page fault at 0x70000000 \(pc 0x[0-9a-f]+\) refused: not in its memory; no supervisor to stop it: it stays blocked$/);
  assert.notEqual(wildThreadState(sys), TS_INACTIVE);
  assert.ok(uart().includes(HELLO), `${uart()}\n${log}`);
  const check = checkLiveCaps(sys);
  assert.deepEqual([check.unexplained, check.missing], [[], []]);
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [join(PROJECT_ROOT, 'bin', 'l4ts.js'), ...args], { maxBuffer: 1 << 24 }, (err, stdout, stderr) => res({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, stdout, stderr }));
  });
}

test('l4ts boot: the report is on stderr and the command exits 0 (the system settled; a component\'s end is reported, not the exit status)', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-never-'));
  const path = join(dir, 'wild.json');
  writeFileSync(path, JSON.stringify(manifestJson(true, true), null, 2));
  const r = await runCli(['boot', path, '--base', PROJECT_ROOT]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[supervisor\] wild: write page fault at 0x70000000 \(pc 0x[0-9a-f]+\) refused by the memory manager: not in its memory \(generation 1\)\n/);
  assert.match(r.stderr, /\[supervisor\] wild: stopped for good \(generation 1, policy never\)\n/);
  assert.match(r.stdout, /\[hello\] Hello, world!/);
  assert.match(r.stderr, /l4ts: exit=0 /);
});
