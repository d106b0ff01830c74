// The supervisor restarts a component that dereferences a wild pointer (a refused page fault),
// hits a wasm trap (unreachable; a pointer beyond 2 GiB), or loops forever (missed heartbeat);
// the client's interrupted call fails with Aborted and the next one succeeds; the console
// driver, hello and the client are unaffected; console lines never interleave; input typed at
// the UART reaches the client that reads it (IRQ 10 -> notification -> driver).
// The system is built by tests/restart/system.ts (the root task's work, done from TypeScript).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSupervisedSystem } from './system.ts';
import { PlanRestart } from '../../src/abi/bootplan.ts';

test('supervisor: restarts on wild pointer, wasm traps and a hang; clients see Aborted, then succeed; console serves them all', { timeout: 300_000 }, async () => {
  const s = await buildSupervisedSystem();
  s.runUntil(() => s.uart().includes('[client] type a line:'), 100_000_000);
  s.typeAtUart('hello there\n');
  s.runUntil(() => s.uart().includes('[client] done'), 50_000_000);
  const uart = s.uart();
  const log = s.debug();

  // Every console line is whole and tagged.
  const lines = uart.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.match(l, /^\[(console|hello|client|quitter|repeater)\] |^\[(9|10)\] chatter line \d end$/, `untagged or interleaved line: ${JSON.stringify(l)}`);
  // Two chatters wrote their lines in fragments, interleaved: every line arrived whole.
  for (const b of [9, 10]) for (let i = 0; i < 5; i++) assert.ok(lines.includes(`[${b}] chatter line ${i} end`), uart);
  // quitter exits with 1: restarted twice (on-failure, maxRestarts 2), then given up; it
  // printed once per life.
  assert.equal(lines.filter((l) => l === '[quitter] quitting').length, 3, uart);
  assert.equal(lines[0], '[console] ready');
  assert.ok(lines.includes('[hello] Hello, world! from a user task, through the console driver.'), uart);

  // Each failure: the interrupted call fails with Aborted (10), the next call succeeds.
  const kinds = ['wild pointer', 'unreachable', 'endless loop', 'pointer beyond 2 GiB', 'assertion'];
  kinds.forEach((k, i) => {
    assert.ok(lines.includes(`[client] fail ${i + 1} (${k}): call returned error 10`), `${k}:\n${uart}`);
  });
  assert.equal(lines.filter((l) => l.startsWith('[client] after restart: echo ok')).length, 5, uart);
  assert.ok(lines.includes('[client] typed: hello there'), uart);
  assert.ok(lines.includes('[client] done'), uart);

  // The supervisor's log: what happened, in order, with generations.
  const sup = log.split('\n').filter((l) => l.startsWith('crashy: '));
  const expect = [
    /crashy: page fault at 0x70000000 \(pc 0x[0-9a-f]+\) refused \(generation 1\)/,
    /crashy: restart 1\/10 in 10 ms/,
    /crashy: restarted, generation 2/,
    /crashy: wasm trap \(ebreak\) at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 2\)/,
    /crashy: restart 2\/10 in 20 ms/,
    /crashy: restarted, generation 3/,
    /crashy: missed its heartbeat \(period 20 ms, generation 3\)/,
    /crashy: restart 3\/10 in 40 ms/,
    /crashy: restarted, generation 4/,
    /crashy: wasm trap \(ebreak\) at pc 0x[0-9a-f]+, tval 0x[0-9a-f]+ \(generation 4\)/,
    /crashy: restart 4\/10 in 40 ms/,
    /crashy: restarted, generation 5/,
    /crashy: aborted at line \d+ column \d+ \(generation 5\)/,
    /crashy: restart 5\/10 in 40 ms/,
    /crashy: restarted, generation 6/,
  ];
  assert.equal(sup.length, expect.length, log);
  expect.forEach((re, i) => assert.match(sup[i]!, re, log));
  // hello's exit was seen and, being clean, not restarted; the console never failed.
  assert.match(log, /^hello: exited with status 0 \(generation 1\)\nhello: stopped for good/m);
  assert.doesNotMatch(log, /^console:/m);
  // repeater exits cleanly and, with policy always, is started again and again.
  assert.match(log, /^repeater: exited with status 0 \(generation 1\)\nrepeater: restart 1 in 20 ms\n/m);
  assert.match(log, /^repeater: restarted, generation 3, /m);
  assert.ok(lines.filter((l) => l === '[repeater] again').length >= 3, uart);
  assert.match(log, /^quitter: exited with status 1 \(generation 1\)\nquitter: restart 1\/2 in 1 ms\n/m);
  assert.match(log, /^quitter: exited with status 1 \(generation 3\)\nquitter: gave up after 2 restarts \(maxRestarts 2\)$/m);
  // The backoff is virtual time: the restart comes no earlier than configured.
  const k = s.sys.kernel;
  assert.ok(k.board.clock.cycles > 0);
});

test('supervisor: a hang is detected on time while another component beats every 0.5 ms (deadlines from the clock, l4.time)', { timeout: 120_000 }, async () => {
  const s = await buildSupervisedSystem({
    only: [],
    extra: [
      { name: 'beater', badge: 13, file: 'user/tests/restart/beater.ts', prio: 90, policy: PlanRestart.OnFailure, maxRestarts: 0, backoff: [1, 1], caps: [] },
      { name: 'hanger', badge: 14, file: 'user/tests/restart/hanger.ts', prio: 90, policy: PlanRestart.OnFailure, maxRestarts: 1, backoff: [1, 1], caps: [] },
    ],
  });
  const k = s.sys.kernel;
  const ms = (): number => k.board.clock.nanos() / 1e6;
  // When each supervisor log line was complete (0.1 ms steps; the supervisor, at priority 245
  // without a scheduling context, prints at once).
  const at = new Map<string, number>();
  const start = ms();
  let seen = 0;
  while (ms() - start < 200 && !k.debugOut.includes('hanger: gave up')) {
    k.board.run(10_000);
    const lines = k.debugOut.split('\n');
    for (; seen < lines.length - 1; seen++) at.set(lines[seen]!, ms());
  }
  const log = k.debugOut;
  const when = (re: RegExp): number => {
    for (const [l, t] of at) if (re.test(l)) return t;
    assert.fail(`no line ${re}:\n${log}`);
  };
  const missed1 = when(/^hanger: missed its heartbeat \(period 20 ms, generation 1\)$/);
  const restarted = when(/^hanger: restarted, generation 2/);
  const missed2 = when(/^hanger: missed its heartbeat \(period 20 ms, generation 2\)$/);
  assert.match(log, /^hanger: gave up after 1 restarts \(maxRestarts 1\)$/m);
  // Its beat comes within one round-robin slice (5 ms) of its start; the hang is declared
  // 2 x 20 ms after it, never earlier, and not much later.
  assert.ok(missed1 - start >= 40 && missed1 - start < 47, `generation 1: ${missed1 - start} ms\n${log}`);
  assert.ok(missed2 - restarted >= 40 && missed2 - restarted < 47, `generation 2: ${missed2 - restarted} ms\n${log}`);
  // The beater was never taken for hung.
  assert.doesNotMatch(log, /^beater:/m);
});
