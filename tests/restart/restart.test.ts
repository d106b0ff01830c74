// The supervisor restarts a component that dereferences a wild pointer (a refused page fault),
// hits a wasm trap (unreachable; a pointer beyond 2 GiB), or loops forever (missed heartbeat);
// the client's interrupted call fails with Aborted and the next one succeeds; the console
// driver, hello and the client are unaffected; console lines never interleave; input typed at
// the UART reaches the client that reads it (IRQ 10 -> notification -> driver).
// The system is built by tests/restart/system.ts (the root task's work, done from TypeScript).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSupervisedSystem } from './system.ts';

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
