// A generated client/server pair on the kernel: a name service answering a lookup with a
// capability, a console server echoing bytes, and a client using both through the stubs
// generated from user/idl/names.json and user/idl/console.json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjType, Rights } from '../../src/abi/caps.ts';
import { make } from '../../src/kernel/test-support.ts';
import { boot, buildProgram, give, runUntil, spawnElf } from './harness.ts';

test('idl: generated names + console clients and servers talk over the kernel', async () => {
  const [consoleElf, namesElf, clientElf] = await Promise.all([
    buildProgram('user/tests/idl/console-server.ts'),
    buildProgram('user/tests/idl/names-server.ts'),
    buildProgram('user/tests/idl/client.ts'),
  ]);
  const sys = boot();
  const conEp = make(sys, ObjType.Endpoint);
  const namesEp = make(sys, ObjType.Endpoint);
  const con = spawnElf(sys, consoleElf, { prio: 150, start: false });
  give(sys, con, conEp, 16, Rights.Read);
  const names = spawnElf(sys, namesElf, { prio: 150, start: false });
  give(sys, names, namesEp, 17, Rights.Read);
  give(sys, names, conEp, 18, Rights.Write, 7);
  const client = spawnElf(sys, clientElf, { prio: 100, start: false });
  give(sys, client, namesEp, 17, Rights.Write, 7);
  for (const t of [con, names, client]) sys.kernel.invokeAs(sys.root, t.threadSlot, 0x34);
  runUntil(sys, () => sys.kernel.debugOut.includes('done\n'), 20_000_000);
  assert.equal(sys.kernel.debugOut, [
    'nosuch=ok',
    'lookup=0 slot=20 registered=1',
    'empty=wouldblock',
    'write=0 written=7012',
    'read=0 text=hello',
    'read=0 text=, world',
    'toolong=6',
    'done',
    '',
  ].join('\n'));
});
