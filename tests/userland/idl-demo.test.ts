// The generator on a test service that uses every feature (tests/userland/idl-demo/demo.json):
// i32/bool/cap arguments, a map item and a capability count in results, a oneway operation, a
// message longer than the four register words (UTCB), an error status. The stubs are generated
// into a temporary directory with the programs, compiled and run on the kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjType, Rights } from '../../src/abi/caps.ts';
import { make } from '../../src/kernel/test-support.ts';
import { compileAssemblyScript } from '../../src/toolchain/wasm2rv/cli-build.ts';
import { wasm2rv } from '../../src/toolchain/wasm2rv/compile.ts';
import { parseIdl } from '../../src/toolchain/idl/parse.ts';
import { generateRuntime, generateService } from '../../src/toolchain/idl/gen.ts';
import { boot, give, runUntil, spawnElf } from './harness.ts';

const HERE = new URL('./idl-demo/', import.meta.url).pathname;

test('idl: every field type, map items, oneway and long messages through generated stubs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'l4ts-idl-demo-'));
  try {
    writeFileSync(join(dir, 'rt.ts'), generateRuntime());
    writeFileSync(join(dir, 'demo.ts'), generateService(parseIdl(readFileSync(join(HERE, 'demo.json'), 'utf8'), 'demo.json')));
    // The programs are AssemblyScript kept as .as files (tsc type-checks tests/**/*.ts).
    for (const f of ['server', 'client']) copyFileSync(join(HERE, `${f}.as`), join(dir, `${f}.ts`));
    const [server, client] = await Promise.all(['server.ts', 'client.ts'].map(async (f) => wasm2rv(await compileAssemblyScript(join(dir, f))).elf));
    const sys = boot();
    const ep = make(sys, ObjType.Endpoint);
    const frame = make(sys, ObjType.Frame);
    const s = spawnElf(sys, server!, { prio: 150, start: false });
    give(sys, s, ep, 16, Rights.Read);
    give(sys, s, s.taskSlot, 1, Rights.Read | Rights.Write);
    const c = spawnElf(sys, client!, { prio: 100, start: false });
    give(sys, c, ep, 16, Rights.Write | Rights.Grant, 9);
    give(sys, c, frame, 30, Rights.Read | Rights.Write);
    for (const t of [s, c]) sys.kernel.invokeAs(sys.root, t.threadSlot, 0x34);
    runUntil(sys, () => sys.kernel.debugOut.includes('done\n'), 20_000_000);
    assert.equal(sys.kernel.debugOut, [
      `mix=0 neg=5 inverted=false capType=${ObjType.Frame}`,
      'mix0=0 neg=-7 inverted=true capType=0',
      'page=0 where=0x40000000 magic=0xfeedf00d reads=0xfeedf00d',
      'note=0',
      'lastNote=0 v=1234',
      'wide=0 sum=21 r5=6 r4=5',
      'fails=15',
      'done',
      '',
    ].join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
