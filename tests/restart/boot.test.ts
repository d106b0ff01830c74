// The restart tests on the booted system (`l4ts boot manifests/restart.json`): the default
// system plus user/tests/restart's server ("crashy", restart on-failure, heartbeat 20 ms) and
// client. With the real memory manager: a refused page fault reaches the supervisor as
// supervisor.memFault, and every restart gets a fresh address space (memory.reset), so the
// restarted server counts its calls from 1 again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/validate.ts';
import { buildImages, bootSystem, PROJECT_ROOT } from '../../src/cli/boot.ts';
import { debugNameOf } from '../../src/kernel/debug.ts';

const MANIFEST = join(PROJECT_ROOT, 'manifests', 'restart.json');

/** Boot manifests/restart.json; `out.uart` collects the UART, `diag` the diagnostics;
 *  `runUntil(done, budget)` runs in slices of `slice` instructions until `done()` or the budget. */
async function bootRestartSystem(slice: number) {
  const m = parseManifest(readFileSync(MANIFEST, 'utf8'), { baseDir: PROJECT_ROOT });
  const diag: string[] = [];
  const sys = bootSystem(m, await buildImages(m), { diag: (s) => diag.push(s) });
  const out = { uart: '' };
  sys.board.onUartOutput((b) => { out.uart += String.fromCharCode(b); });
  const runUntil = (done: () => boolean, budget: number): void => {
    const start = sys.board.hart.instret;
    while (!done() && sys.board.hart.instret - start < budget) {
      const r = sys.board.run(slice);
      if (r !== null && r.kind !== 'budget') break;
    }
  };
  return { sys, diag, out, runUntil };
}

test('boot manifests/restart.json: crashy fails four ways and is restarted fresh each time; the client sees Aborted, then success; the rest runs on', {
  timeout: 900_000,
}, async () => {
  const { sys, diag, out, runUntil } = await bootRestartSystem(1_000_000);
  runUntil(() => out.uart.includes('[client] type a line:'), 400_000_000);
  sys.board.uart.pushInput(new TextEncoder().encode('typed at the UART\n'));
  runUntil(() => out.uart.includes('[client] done'), 100_000_000);
  const log = diag.join('');
  const lines = out.uart.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.match(l, /^\[(console|hello|client)\] /, `untagged or interleaved line: ${JSON.stringify(l)}`);
  assert.ok(lines.includes('[hello] Hello, world! from a user task, through the console driver.'), out.uart);
  ['wild pointer', 'unreachable', 'endless loop', 'pointer beyond 2 GiB', 'assertion'].forEach((k, i) => {
    assert.ok(lines.includes(`[client] fail ${i + 1} (${k}): call returned error 10`), `${k}:\n${out.uart}\n${log}`);
  });
  // Fresh address space after each restart: the server's call counter starts again.
  assert.equal(lines.filter((l) => l === '[client] after restart: echo ok, calls served this life: 1').length, 5, `${out.uart}\n${log}`);
  assert.ok(lines.includes('[client] typed: typed at the UART'), out.uart);
  assert.ok(lines.includes('[client] done'), out.uart);

  const sup = log.split('\n').filter((l) => l.startsWith('[supervisor] crashy: '));
  const expect = [
    /read page fault at 0x70000000 \(pc 0x[0-9a-f]+\) refused by the memory manager: not in its memory \(generation 1\)/,
    /restart 1\/10 in 10 ms/,
    /restarted, generation 2, fresh address space/,
    /wasm trap \(ebreak\) at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 2\)/,
    /restart 2\/10 in 20 ms/,
    /restarted, generation 3, fresh address space/,
    /missed its heartbeat \(period 20 ms, generation 3\)/,
    /restart 3\/10 in 40 ms/,
    /restarted, generation 4, fresh address space/,
    /wasm trap \(ebreak\) at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 4\)/,
    /restart 4\/10 in 40 ms/,
    /restarted, generation 5, fresh address space/,
    /aborted at line \d+ column \d+ \(generation 5\)/,
    /restart 5\/10 in 40 ms/,
    /restarted, generation 6, fresh address space/,
  ];
  assert.equal(sup.length, expect.length, log);
  expect.forEach((re, i) => assert.match(sup[i]!, re, log));
  assert.match(log, /\[supervisor\] hello: exited with status 0 \(generation 1\)\n\[supervisor\] hello: stopped for good/);
  assert.doesNotMatch(log, /\[supervisor\] console:/);
});

test('boot manifests/restart.json: the console driver itself faults and is restarted; the call it died in fails, its clients carry on, tagged as before', {
  timeout: 900_000,
}, async () => {
  const { sys, diag, out, runUntil } = await bootRestartSystem(20_000);
  runUntil(() => out.uart.includes('[client] echo: ok\n'), 100_000_000);
  // The console waits in its receive: move its saved pc by two bytes, so that it resumes at a
  // misaligned address (no compressed instructions on this hart): a fault in the driver that
  // does not survive a restart (its code is intact; a corrupted code page would be, being the
  // image's own frame, shared read-only).
  const k = sys.kernel;
  const t = [...k.threads].find((th) => th.task !== null && debugNameOf(th.task) === 'console')!;
  assert.ok(t !== undefined && t !== k.current, 'console thread');
  t.pc = (t.pc + 2) | 0;
  runUntil(() => out.uart.includes('[client] type a line:'), 400_000_000);
  sys.board.uart.pushInput(new TextEncoder().encode('after the restart\n'));
  runUntil(() => out.uart.includes('[client] done'), 100_000_000);
  const log = diag.join('');
  const lines = out.uart.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.match(l, /^\[(console|hello|client)\] /, `untagged or interleaved line: ${JSON.stringify(l)}`);
  // The client's next line was the call the console died in: it got Aborted and is lost. The
  // driver came back (ready twice) from its image: the later lines are there, tagged again.
  assert.equal(lines.filter((l) => l === '[console] ready').length, 2, out.uart);
  assert.ok(!lines.includes('[client] fail 1 (wild pointer): call returned error 10'), out.uart);
  assert.ok(lines.includes('[client] fail 2 (unreachable): call returned error 10'), out.uart);
  assert.equal(lines.filter((l) => l === '[client] after restart: echo ok, calls served this life: 1').length, 5, `${out.uart}\n${log}`);
  assert.ok(lines.includes('[client] typed: after the restart'), out.uart);
  assert.ok(lines.includes('[client] done'), out.uart);
  assert.match(log, /\[supervisor\] console: misaligned fetch at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 1\)\n/);
  assert.match(log, /\[supervisor\] console: restart 1\/3 in 10 ms\n/);
  assert.match(log, /\[supervisor\] console: restarted, generation 2, fresh address space\n/);
  // crashy's restarts went on meanwhile.
  assert.equal(log.split('\n').filter((l) => /^\[supervisor\] crashy: restarted, generation \d, fresh address space$/.test(l)).length, 5, log);
});
