import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IRQ_M_EXT, IRQ_S_EXT, irqLine, type HartInterruptPins } from './irq.ts';
import { Plic, PLIC_CONTEXT, PLIC_CONTEXT_STRIDE, PLIC_ENABLE, PLIC_ENABLE_STRIDE, PLIC_PENDING } from './plic.ts';

class Pins implements HartInterruptPins {
  readonly level = new Map<number, boolean>();
  setInterruptPending(bit: number, level: boolean): void {
    this.level.set(bit, level);
  }
  get(bit: number): boolean {
    return this.level.get(bit) ?? false;
  }
}

const M = 0;
const S = 1;
const prio = (p: Plic, n: number, v: number) => p.write(4 * n, 4, v);
const enable = (p: Plic, ctx: number, n: number) => {
  const off = PLIC_ENABLE + PLIC_ENABLE_STRIDE * ctx + 4 * (n >> 5);
  p.write(off, 4, p.read(off, 4) | (1 << (n & 31)));
};
const threshold = (p: Plic, ctx: number, v: number) => p.write(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx, 4, v);
const claim = (p: Plic, ctx: number) => p.read(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx + 4, 4);
const complete = (p: Plic, ctx: number, n: number) => p.write(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * ctx + 4, 4, n);

function setup() {
  const pins = new Pins();
  const plic = new Plic(pins);
  return { pins, plic };
}

test('plic: a raised, enabled source of non-zero priority interrupts and is claimed once', () => {
  const { pins, plic } = setup();
  const line = irqLine(plic, 10);
  prio(plic, 10, 1);
  line.set(true);
  assert.equal(pins.get(IRQ_M_EXT), false, 'not enabled yet');
  assert.equal(plic.read(PLIC_PENDING, 4), 1 << 10);
  enable(plic, M, 10);
  assert.equal(pins.get(IRQ_M_EXT), true);
  assert.equal(pins.get(IRQ_S_EXT), false);
  assert.equal(claim(plic, M), 10);
  assert.equal(pins.get(IRQ_M_EXT), false);
  assert.equal(plic.read(PLIC_PENDING, 4), 0, 'claim clears pending');
  assert.equal(claim(plic, M), 0, 'nothing else to claim');
});

test('plic: level re-arm — after complete the source is pending again while its line is high', () => {
  const { pins, plic } = setup();
  const line = irqLine(plic, 3);
  prio(plic, 3, 2);
  enable(plic, M, 3);
  line.set(true);
  assert.equal(claim(plic, M), 3);
  complete(plic, M, 3);
  assert.equal(pins.get(IRQ_M_EXT), true, 'line still high: pending again');
  assert.equal(claim(plic, M), 3);
  line.set(false);
  complete(plic, M, 3);
  assert.equal(pins.get(IRQ_M_EXT), false);
  assert.equal(plic.read(PLIC_PENDING, 4), 0);
  // A line that drops before the claim leaves nothing pending.
  line.set(true);
  line.set(false);
  assert.equal(claim(plic, M), 0);
});

test('plic: highest priority wins, ties go to the lowest id, priority 0 never interrupts', () => {
  const { plic } = setup();
  for (const n of [5, 6, 7, 40]) {
    enable(plic, M, n);
    irqLine(plic, n).set(true);
  }
  prio(plic, 5, 3);
  prio(plic, 6, 7);
  prio(plic, 7, 7);
  prio(plic, 40, 5);
  assert.equal(plic.read(4 * 6, 4), 7);
  prio(plic, 6, 99); // WARL: clamped to 7
  assert.equal(plic.read(4 * 6, 4), 7);
  assert.equal(plic.read(PLIC_PENDING + 4, 4), 1 << 8, 'source 40 in the second pending word');
  assert.deepEqual([claim(plic, M), claim(plic, M), claim(plic, M), claim(plic, M)], [6, 7, 40, 5]);
  const { plic: p2 } = setup();
  enable(p2, M, 9);
  irqLine(p2, 9).set(true);
  assert.equal(claim(p2, M), 0, 'priority 0 is "never interrupt"');
});

test('plic: threshold masks priorities at or below it', () => {
  const { pins, plic } = setup();
  enable(plic, M, 1);
  enable(plic, M, 2);
  prio(plic, 1, 2);
  prio(plic, 2, 4);
  threshold(plic, M, 4);
  irqLine(plic, 1).set(true);
  irqLine(plic, 2).set(true);
  assert.equal(pins.get(IRQ_M_EXT), false);
  assert.equal(claim(plic, M), 0);
  threshold(plic, M, 3);
  assert.equal(pins.get(IRQ_M_EXT), true);
  assert.equal(claim(plic, M), 2);
  assert.equal(pins.get(IRQ_M_EXT), false, 'source 1 (prio 2) is still masked');
  threshold(plic, M, 0);
  assert.equal(claim(plic, M), 1);
});

test('plic: two contexts — M drives MEIP, S drives SEIP, a claim by one hides the source from the other', () => {
  const { pins, plic } = setup();
  prio(plic, 1, 1);
  prio(plic, 2, 1);
  enable(plic, S, 1);
  enable(plic, M, 2);
  enable(plic, S, 2);
  irqLine(plic, 1).set(true);
  assert.equal(pins.get(IRQ_S_EXT), true);
  assert.equal(pins.get(IRQ_M_EXT), false);
  assert.equal(claim(plic, M), 0, 'source 1 not enabled for M');
  irqLine(plic, 2).set(true);
  assert.equal(pins.get(IRQ_M_EXT), true);
  assert.equal(claim(plic, S), 1);
  assert.equal(claim(plic, M), 2);
  assert.equal(pins.get(IRQ_S_EXT), false, 'source 2 is claimed, so S sees nothing');
  complete(plic, M, 1); // not enabled for M: ignored (PLIC spec: completion silently ignored)
  assert.equal(claim(plic, S), 0);
  complete(plic, S, 1);
  assert.equal(claim(plic, S), 1);
});

test('plic: enables and thresholds read back; source 0 and pending bits are read-only', () => {
  const { plic } = setup();
  plic.write(PLIC_ENABLE + PLIC_ENABLE_STRIDE * S, 4, 0xffff_ffff);
  assert.equal(plic.read(PLIC_ENABLE + PLIC_ENABLE_STRIDE * S, 4), 0xffff_fffe);
  threshold(plic, S, 5);
  assert.equal(plic.read(PLIC_CONTEXT + PLIC_CONTEXT_STRIDE * S, 4), 5);
  prio(plic, 0, 5);
  assert.equal(plic.read(0, 4), 0);
  plic.write(PLIC_PENDING, 4, 0xffff_ffff);
  assert.equal(plic.read(PLIC_PENDING, 4), 0);
  assert.throws(() => plic.setSourceLevel(64, true), /source 64/);
});
