import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from './clock.ts';
import { IRQ_M_SOFT, IRQ_M_TIMER, type HartInterruptPins } from './irq.ts';
import { Clint, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP } from './clint.ts';

class Pins implements HartInterruptPins {
  readonly level = new Map<number, boolean>();
  setInterruptPending(bit: number, level: boolean): void {
    this.level.set(bit, level);
  }
  get(bit: number): boolean {
    return this.level.get(bit) ?? false;
  }
}

/** Advance the clock cycle by cycle to `cycle`, running due events, as the hart does. */
function runTo(clock: VirtualClock, cycle: number): void {
  while (clock.cycles < cycle) {
    clock.cycles++;
    clock.runDue();
  }
}

function setup() {
  const clock = new VirtualClock(100_000_000, 10_000_000); // 10 cycles per tick
  const pins = new Pins();
  const clint = new Clint(clock, pins);
  return { clock, pins, clint };
}

test('clint: mtime follows the virtual clock and reads as two words', () => {
  const { clock, clint } = setup();
  assert.equal(clint.read(CLINT_MTIME, 4), 0);
  clock.cycles = 12_345;
  assert.equal(clint.read(CLINT_MTIME, 4), 1234);
  assert.equal(clint.read(CLINT_MTIME + 4, 4), 0);
  assert.equal(clint.mtime(), 1234);
});

test('clint: MTIP rises exactly at the cycle where mtime reaches mtimecmp', () => {
  const { clock, pins, clint } = setup();
  clint.write(CLINT_MTIMECMP + 4, 4, 0);
  clint.write(CLINT_MTIMECMP, 4, 100); // tick 100 = cycle 1000
  assert.equal(pins.get(IRQ_M_TIMER), false);
  assert.equal(clock.nextEventCycle(), 1000);
  runTo(clock, 999);
  assert.equal(pins.get(IRQ_M_TIMER), false);
  runTo(clock, 1000);
  assert.equal(pins.get(IRQ_M_TIMER), true);
  assert.equal(clint.mtime(), 100);
});

test('clint: wfi-style skip to the timer event raises MTIP', () => {
  const { clock, pins, clint } = setup();
  clint.write(CLINT_MTIMECMP + 4, 4, 0);
  clint.write(CLINT_MTIMECMP, 4, 5000);
  assert.equal(clock.skipToNextEvent(), true);
  clock.runDue();
  assert.equal(clock.cycles, 50_000);
  assert.equal(pins.get(IRQ_M_TIMER), true);
});

test('clint: MTIP is a level — lowered when mtimecmp moves beyond mtime, raised at once when behind', () => {
  const { clock, pins, clint } = setup();
  clint.write(CLINT_MTIMECMP + 4, 4, 0);
  clint.write(CLINT_MTIMECMP, 4, 10);
  runTo(clock, 100);
  assert.equal(pins.get(IRQ_M_TIMER), true);
  clint.write(CLINT_MTIMECMP, 4, 20);
  assert.equal(pins.get(IRQ_M_TIMER), false);
  runTo(clock, 199);
  assert.equal(pins.get(IRQ_M_TIMER), false);
  runTo(clock, 200);
  assert.equal(pins.get(IRQ_M_TIMER), true);
  clint.write(CLINT_MTIMECMP, 4, 5); // already past: raised during the write
  assert.equal(pins.get(IRQ_M_TIMER), true);
});

test('clint: mtimecmp resets to all-ones (no interrupt) and the old event is cancelled', () => {
  const { clock, pins, clint } = setup();
  assert.equal(clint.read(CLINT_MTIMECMP, 4), 0xffff_ffff);
  assert.equal(clint.read(CLINT_MTIMECMP + 4, 4), 0xffff_ffff);
  assert.equal(clock.nextEventCycle(), Infinity);
  clint.write(CLINT_MTIMECMP + 4, 4, 0);
  clint.write(CLINT_MTIMECMP, 4, 50);
  clint.write(CLINT_MTIMECMP + 4, 4, 0xffff_ffff); // RV32 idiom: park high word first
  assert.equal(clock.nextEventCycle(), Infinity);
  runTo(clock, 1000);
  assert.equal(pins.get(IRQ_M_TIMER), false);
});

test('clint: writing mtime moves the CLINT time base, not virtual time', () => {
  const { clock, pins, clint } = setup();
  clock.cycles = 500; // mtime 50
  clint.write(CLINT_MTIME, 4, 1000);
  assert.equal(clint.mtime(), 1000);
  assert.equal(clock.cycles, 500);
  clint.write(CLINT_MTIMECMP + 4, 4, 0);
  clint.write(CLINT_MTIMECMP, 4, 1010); // 10 ticks from now
  assert.equal(clock.nextEventCycle(), 600);
  runTo(clock, 600);
  assert.equal(pins.get(IRQ_M_TIMER), true);
  clint.write(CLINT_MTIME + 4, 4, 1);
  assert.equal(clint.read(CLINT_MTIME + 4, 4), 1);
  assert.equal(clint.mtimeBig(), (1n << 32n) + 1010n);
});

test('clint: msip drives MSIP; only bit 0 is kept; other harts read 0', () => {
  const { pins, clint } = setup();
  clint.write(CLINT_MSIP, 4, 0xffff_ffff);
  assert.equal(clint.read(CLINT_MSIP, 4), 1);
  assert.equal(pins.get(IRQ_M_SOFT), true);
  clint.write(CLINT_MSIP, 4, 0);
  assert.equal(pins.get(IRQ_M_SOFT), false);
  clint.write(CLINT_MSIP + 4, 4, 1);
  assert.equal(clint.read(CLINT_MSIP + 4, 4), 0);
  assert.equal(pins.get(IRQ_M_SOFT), false);
});
