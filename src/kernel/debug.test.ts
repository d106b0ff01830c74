// Method.DebugName and capDistribution (src/kernel/debug.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err } from '../abi/errors.ts';
import { Method } from '../abi/sys.ts';
import { ObjType, Rights } from '../abi/caps.ts';
import { Utcb } from '../abi/utcb.ts';
import { bootSystem, make, spawn, grantCap, rootInvoke, IDLE_ROOT, type TestSystem } from './test-support.ts';
import { capDistribution, debugNameOf } from './debug.ts';

/** Name the object behind root slot `slot` as the root task would (bytes in its UTCB). */
function name(sys: TestSystem, slot: number, s: string): number {
  const bytes = new TextEncoder().encode(s);
  for (let i = 0; i < bytes.length; i += 4) {
    let w = 0;
    for (let b = 0; b < 4 && i + b < bytes.length; b++) w |= bytes[i + b] << (8 * b);
    sys.kernel.setUtcbWord(sys.root, Utcb.Mr + i, w);
  }
  return sys.kernel.invokeAs(sys.root, slot, Method.DebugName, bytes.length).err;
}

test('DebugName names the object behind any capability; too long a name is refused', () => {
  const sys = bootSystem(IDLE_ROOT);
  const ep = make(sys, ObjType.Endpoint);
  assert.equal(name(sys, ep, 'svc:console'), Err.Ok);
  assert.equal(debugNameOf(sys.kernel.rootTask.cspace[ep]!.obj), 'svc:console');
  assert.equal(sys.kernel.invokeAs(sys.root, ep, Method.DebugName, 65).err, Err.InvalidArg);
  assert.equal(sys.kernel.invokeAs(sys.root, ep + 100, Method.DebugName, 1).err, Err.EmptySlot);
});

test('capDistribution lists what named tasks hold, with pager and exception handler, merging image frames and quotas', () => {
  const sys = bootSystem(IDLE_ROOT);
  const ep = make(sys, ObjType.Endpoint);
  name(sys, ep, 'pager');
  const pagerCopy = sys.nextSlot++;
  rootInvoke(sys, 1, Method.CapMint, ep, pagerCopy, Rights.Write, 7);
  const t = spawn(sys, '_start:\n  wfi\n', { pager: pagerCopy, start: false });
  name(sys, t.taskSlot, 'app');
  grantCap(sys, t, t.taskSlot, 1, Rights.Read | Rights.Write);
  const u1 = make(sys, ObjType.Untyped, 2);
  const u2 = make(sys, ObjType.Untyped, 0);
  name(sys, u1, 'app');
  name(sys, u2, 'app');
  grantCap(sys, t, u1, 16, Rights.Write);
  grantCap(sys, t, u2, 17, Rights.Write);
  const f1 = make(sys, ObjType.Frame);
  const f2 = make(sys, ObjType.Frame);
  name(sys, f1, 'image:app');
  name(sys, f2, 'image:app');
  grantCap(sys, t, f1, 18, Rights.Read | Rights.Exec);
  grantCap(sys, t, f2, 19, Rights.Read | Rights.Exec);
  const lines = capDistribution(sys.kernel).map((l) => `${l.holder} ${l.place} ${l.type}(${l.object}${l.pages === null ? '' : `, ${l.pages} pages`}) ${l.rights} ${l.badge}`);
  assert.deepEqual(lines.sort(), [
    'app cspace Frame(image:app) 5 0',
    'app cspace Task(app) 3 0',
    'app cspace Untyped(app, 5 pages) 2 0',
    'app pager Endpoint(pager) 2 7',
  ]);
});

test('capDistribution: a frame retyped from a named untyped is a quota frame, with its derivation path', () => {
  const sys = bootSystem(IDLE_ROOT);
  const t = spawn(sys, '_start:\n  wfi\n', { start: false });
  name(sys, t.taskSlot, 'app');
  const u = make(sys, ObjType.Untyped, 2);
  name(sys, u, 'app');
  const f = sys.nextSlot++;
  rootInvoke(sys, u, Method.UntypedRetype, ObjType.Frame, 1, 1, f);
  grantCap(sys, t, f, 20, Rights.Read | Rights.Write);
  const plain = make(sys, ObjType.Frame); // from a boot untyped (no name): not a quota frame
  grantCap(sys, t, plain, 21, Rights.Read);
  const frames = capDistribution(sys.kernel).filter((l) => l.type === 'Frame');
  const pa = (sys.kernel.rootTask.cspace[f]!.obj as { pa: number }).pa;
  assert.deepEqual(frames.map((l) => [l.object, l.pages, l.quota]), [
    ['quota:app', 2, { untyped: 'app', chain: ['?', 'app'], pa }],
    [`0x${(sys.kernel.rootTask.cspace[plain]!.obj as { pa: number }).pa.toString(16).padStart(8, '0')}`, 1, undefined],
  ]);
});
