import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRAM_BASE, Dram } from './memory.ts';
import type { IrqLine } from './irq.ts';
import { DmaFault } from './dma.ts';
import { Iommu, IOMMU_FAULT_QUEUE_DEPTH, IOMMU_REG as R, IOMMU_WIN_READ, IOMMU_WIN_WRITE, type DmaFaultRecord } from './iommu.ts';

const win = (d: number, w: number) => R.WINDOWS + d * R.DEVICE_STRIDE + w * R.WINDOW_STRIDE;

function setup() {
  const dram = new Dram(1 << 20);
  const line: IrqLine & { level: boolean } = { level: false, set(l) { this.level = l; } };
  const iommu = new Iommu(dram, line);
  return { dram, iommu, line };
}

test('iommu: bypass (reset state) allows any DRAM access and refuses anything outside DRAM', () => {
  const { dram, iommu } = setup();
  assert.equal(iommu.mode, 'bypass');
  assert.equal(iommu.read(R.MODE, 4), 0);
  const port = iommu.port(3);
  port.writeU32(DRAM_BASE + 0x100, 0xdeadbeef);
  assert.equal(dram.readU32(DRAM_BASE + 0x100), 0xdeadbeef);
  assert.equal(port.readU32(DRAM_BASE + 0x100), 0xdeadbeef);
  assert.throws(() => port.read(DRAM_BASE + dram.size - 2, 4), DmaFault);
  assert.throws(() => port.writeU8(0x1000_0000, 1), DmaFault);
  assert.throws(() => port.read(0x1_8000_0000, 4), DmaFault, 'an address above 4 GiB does not wrap into DRAM');
  assert.equal(iommu.faults().length, 3);
});

test('iommu: enforce with an empty table refuses everything, touching nothing', () => {
  const { dram, iommu } = setup();
  iommu.setMode('enforce');
  const port = iommu.port(0);
  dram.writeU32(DRAM_BASE, 0x11111111);
  assert.throws(() => port.writeU32(DRAM_BASE, 0x22222222), DmaFault);
  assert.throws(() => port.read(DRAM_BASE, 4), DmaFault);
  assert.equal(dram.readU32(DRAM_BASE), 0x11111111);
  assert.deepEqual(iommu.faults(), [
    { device: 0, addr: DRAM_BASE, len: 4, access: 'write' },
    { device: 0, addr: DRAM_BASE, len: 4, access: 'read' },
  ]);
});

test('iommu: windows grant read and write separately, per device, whole access inside one window', () => {
  const { dram, iommu } = setup();
  iommu.setMode('enforce');
  iommu.setWindow(1, 0, { base: DRAM_BASE + 0x1000, size: 0x1000, read: true, write: false });
  iommu.setWindow(1, 1, { base: DRAM_BASE + 0x4000, size: 0x100, read: true, write: true });
  assert.equal(iommu.check(1, DRAM_BASE + 0x1000, 0x1000, false), true);
  assert.equal(iommu.check(1, DRAM_BASE + 0x1000, 4, true), false, 'read-only window');
  assert.equal(iommu.check(1, DRAM_BASE + 0x1ffc, 8, false), false, 'straddles the window end');
  assert.equal(iommu.check(1, DRAM_BASE + 0x40fc, 4, true), true);
  assert.equal(iommu.check(2, DRAM_BASE + 0x1000, 4, false), false, 'another device has no window');
  const port = iommu.port(1);
  port.write(DRAM_BASE + 0x4000, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...dram.readBytes(DRAM_BASE + 0x4000, 3)], [1, 2, 3]);
  assert.equal(iommu.faults().length, 0, 'check() records nothing');
  iommu.setWindow(1, 1, null);
  assert.equal(iommu.check(1, DRAM_BASE + 0x4000, 4, true), false);
  assert.throws(() => iommu.setWindow(1, 2, { base: 0x1000, size: 16, read: true, write: true }), /not inside DRAM/);
  assert.throws(() => iommu.setWindow(8, 0, null), /device 8/);
});

test('iommu: windows programmed through registers, FLAGS is WARL against windows outside DRAM', () => {
  const { iommu } = setup();
  iommu.write(R.MODE, 4, 1);
  assert.equal(iommu.mode, 'enforce');
  assert.equal(iommu.read(R.INFO, 4), 8 | (8 << 8));
  const w = win(2, 3);
  iommu.write(w + 0, 4, DRAM_BASE + 0x2000);
  iommu.write(w + 4, 4, 0x800);
  iommu.write(w + 8, 4, IOMMU_WIN_READ | IOMMU_WIN_WRITE);
  assert.equal(iommu.read(w + 8, 4), 3);
  assert.deepEqual(iommu.window(2, 3), { base: DRAM_BASE + 0x2000, size: 0x800, read: true, write: true });
  assert.equal(iommu.check(2, DRAM_BASE + 0x27fc, 4, true), true);
  iommu.write(w + 4, 4, 0x1000_0000); // now reaches beyond DRAM: switched off
  assert.equal(iommu.read(w + 8, 4), 0);
  assert.equal(iommu.check(2, DRAM_BASE + 0x2000, 4, false), false);
  const w2 = win(0, 0);
  iommu.write(w2 + 0, 4, 0x1000);
  iommu.write(w2 + 4, 4, 0x10);
  iommu.write(w2 + 8, 4, IOMMU_WIN_READ);
  assert.equal(iommu.read(w2 + 8, 4), 0, 'a window below DRAM does not take');
});

test('iommu: fault log readable by registers (oldest first, pop) and by onFault; IRQ while queued', () => {
  const { iommu, line } = setup();
  const seen: DmaFaultRecord[] = [];
  iommu.onFault = (f) => seen.push(f);
  iommu.write(R.MODE, 4, 1);
  iommu.write(R.IRQ_ENABLE, 4, 1);
  const port = iommu.port(5);
  assert.throws(() => port.read(DRAM_BASE + 0x40, 12), DmaFault);
  assert.throws(() => port.writeU16(DRAM_BASE + 0x80, 7), DmaFault);
  assert.equal(seen.length, 2);
  assert.equal(line.level, true);
  assert.equal(iommu.read(R.FAULT_COUNT, 4), 2);
  assert.deepEqual(
    [R.FAULT_DEV, R.FAULT_ADDR, R.FAULT_ADDR_HI, R.FAULT_LEN, R.FAULT_ACCESS].map((o) => iommu.read(o, 4)),
    [5, DRAM_BASE + 0x40, 0, 12, 0],
  );
  iommu.write(R.FAULT_POP, 4, 1);
  assert.deepEqual(
    [R.FAULT_DEV, R.FAULT_ADDR, R.FAULT_LEN, R.FAULT_ACCESS].map((o) => iommu.read(o, 4)),
    [5, DRAM_BASE + 0x80, 2, 1],
  );
  iommu.write(R.FAULT_POP, 4, 1);
  assert.equal(iommu.read(R.FAULT_COUNT, 4), 0);
  assert.equal(line.level, false);
  assert.equal(iommu.faults().length, 2, 'the TS history keeps popped faults');
});

test('iommu: a full fault queue counts lost faults; FAULT_LOST clears on write', () => {
  const { iommu } = setup();
  iommu.setMode('enforce');
  const port = iommu.port(0);
  for (let i = 0; i < IOMMU_FAULT_QUEUE_DEPTH + 3; i++) assert.throws(() => port.readU8(DRAM_BASE + i), DmaFault);
  assert.equal(iommu.read(R.FAULT_COUNT, 4), IOMMU_FAULT_QUEUE_DEPTH);
  assert.equal(iommu.read(R.FAULT_LOST, 4), 3);
  assert.equal(iommu.faultTotal, IOMMU_FAULT_QUEUE_DEPTH + 3);
  iommu.write(R.FAULT_LOST, 4, 0);
  assert.equal(iommu.read(R.FAULT_LOST, 4), 0);
});

test('iommu: switching back to bypass re-allows DRAM; reset clears windows and log', () => {
  const { iommu } = setup();
  iommu.setMode('enforce');
  iommu.setWindow(0, 0, { base: DRAM_BASE, size: 0x1000, read: true, write: true });
  assert.equal(iommu.admit(0, DRAM_BASE + 0x2000, 4, 'read'), false);
  iommu.setMode('bypass');
  assert.equal(iommu.admit(0, DRAM_BASE + 0x2000, 4, 'read'), true);
  iommu.reset();
  assert.equal(iommu.window(0, 0), null);
  assert.equal(iommu.faults().length, 0);
  assert.equal(iommu.read(R.FAULT_COUNT, 4), 0);
});
