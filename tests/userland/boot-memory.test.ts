// The memory manager on the booted system (`l4ts boot manifests/memory.json`): the default
// system, every image paged in by the memory manager, plus a component that grows until its
// quota is exhausted and a pair sharing a region allocated from one of their quotas.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseManifest } from '../../src/manifest/validate.ts';
import { buildImages, bootSystem, PROJECT_ROOT } from '../../src/cli/boot.ts';

test('boot manifests/memory.json: quota exhaustion is refused cleanly and harms nobody; a shared region is visible in two components', { timeout: 900_000 }, async () => {
  const m = parseManifest(readFileSync(join(PROJECT_ROOT, 'manifests', 'memory.json'), 'utf8'), { baseDir: PROJECT_ROOT });
  const images = await buildImages(m);
  const diag: string[] = [];
  const sys = bootSystem(m, images, { diag: (s) => diag.push(s) });
  let uart = '';
  sys.board.onUartOutput((b) => { uart += String.fromCharCode(b); });
  const start = sys.board.hart.instret;
  while (!(uart.includes('[hog] done') && uart.includes('[share-client] done')) && sys.board.hart.instret - start < 100_000_000) {
    const r = sys.board.run(1_000_000);
    if (r !== null && r.kind !== 'budget') break;
  }
  const lines = uart.split('\n');
  const has = (l: string): void => assert.ok(lines.includes(l), `missing ${JSON.stringify(l)} in\n${uart}\n${diag.join('')}`);
  // Quota 100 pages: 2 pages of runtime data + 6 wasm pages of 16; the seventh is refused.
  has('[hog] grew 5 wasm pages, then memory.grow returned -1');
  has('[hog] memory manager says NoMemory');
  has('[hog] every granted page works: yes');
  assert.match(uart, /\[hog\] quota 100 committed 98 used \d+ memPages 6 faults \d+ refused 0\n/);
  has('[hog] done');
  // Shared memory: the server's quota, the client's mapping.
  has('[share-server] shareAlloc(4) = 0, frame in slot 100, mapped: 0');
  has('[share-client] got the region: call 0, capabilities 1, mapped: 0');
  has("[share-client] sees the server's words: yes");
  has("[share-server] sees the client's writes: yes");
  has('[share-client] server checked: yes');
  // Everybody else ran as usual.
  has('[hello] Hello, world! from a user task, through the console driver.');
  assert.doesNotMatch(diag.join(''), /refused by the memory manager/);
});
