// The manifest types make impossible states fail to type-check (`npm test` type-checks this
// file: an @ts-expect-error that no longer finds an error is itself an error).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Component, RestartPolicy, Device } from './types.ts';

const common = {
  name: 'x', description: null, image: { kind: 'elf', path: 'x.elf', file: '/x.elf' },
  priority: 1, sched: { budgetUs: 1, periodUs: 1 }, memoryPages: 1,
} as const;
const grants = { devices: [], irqs: [], provides: [], uses: [], startAfter: [], forwardsIrqsOf: null };

test('impossible components, devices and restart policies do not type-check', () => {
  const ok: Component[] = [
    { ...common, role: 'root' },
    { ...common, ...grants, role: 'supervisor', restart: { policy: 'never' } },
    { ...common, ...grants, role: 'task', restart: { policy: 'always', backoff: { initialMs: 1, maxMs: 2 } } },
  ];
  const bad: Component[] = [
    // @ts-expect-error the root task has no grants
    { ...common, role: 'root', devices: [] },
    // @ts-expect-error the supervisor can only be never restarted
    { ...common, ...grants, role: 'supervisor', restart: { policy: 'always', backoff: { initialMs: 1, maxMs: 2 } } },
    // @ts-expect-error a task needs its grants and restart policy
    { ...common, role: 'task' },
  ];
  const policies: RestartPolicy[] = [
    // @ts-expect-error never has no backoff
    { policy: 'never', backoff: { initialMs: 1, maxMs: 2 } },
    // @ts-expect-error on-failure needs maxRestarts
    { policy: 'on-failure', backoff: { initialMs: 1, maxMs: 2 } },
  ];
  const devices: Device[] = [
    // @ts-expect-error only a virtio device has a slot
    { kind: 'uart', regs: 0x1000_0000, irq: 10, slot: 0 },
  ];
  assert.equal(ok.length + bad.length + policies.length + devices.length, 9);
});
