// The board: one RV32IMAFD hart and its devices on the QEMU `virt` memory map, so that standard
// bare-metal code runs unchanged.
//
//   0x0010_0000  test / poweroff device (SiFive test finisher)
//   0x0200_0000  CLINT (msip, mtimecmp, mtime at timerHz of virtual time)
//   0x0c00_0000  PLIC (context 0 = hart 0 M-mode, context 1 = hart 0 S-mode)
//   0x1000_0000  16550 UART, IRQ 10
//   0x1000_1000  virtio-mmio slot n at + n·0x1000, IRQ 1+n (n = 0..7)
//   0x1010_0000  IOMMU registers (l4ts-specific, docs/MACHINE-DEVICES.md)
//   0x8000_0000  DRAM (128 MiB by default)
//
// The board knows nothing of the kernel. Front ends listen to its events (v86 style): the
// UART's bytes, the exit of the program; they never reach into devices.

import { MmioBus } from './bus.ts';
import { Dram, DEFAULT_DRAM_SIZE } from './memory.ts';
import { VirtualClock, DEFAULT_CPU_HZ, DEFAULT_TIMER_HZ } from './clock.ts';
import { Hart, type StopReason } from './hart.ts';
import { irqLine } from './irq.ts';
import { Clint, CLINT_BASE, CLINT_SIZE } from './clint.ts';
import { Plic, PLIC_BASE, PLIC_SIZE } from './plic.ts';
import { Uart16550, UART_BASE, UART_SIZE, UART_IRQ } from './uart16550.ts';
import { TestDevice, TESTDEV_BASE, TESTDEV_SIZE } from './testdev.ts';
import { Iommu, IOMMU_BASE, IOMMU_SIZE } from './iommu.ts';
import { VirtioMmio, VIRTIO_MMIO_SLOTS, VIRTIO_MMIO_STRIDE, virtioSlotBase, virtioSlotIrq, type VirtioDevice } from './virtio/mmio.ts';

export interface BoardOptions {
  /** DRAM size in bytes (default 128 MiB). */
  dramSize?: number;
  /** Virtual CPU frequency: one retired instruction is one cycle (default 100 MHz). */
  cpuHz?: number;
  /** CLINT mtime frequency (default 10 MHz). */
  timerHz?: number;
  /** Devices for the virtio-mmio slots, in slot order (at most 8). */
  virtio?: VirtioDevice[];
}

/** How a program ended. `code` 0 is success. */
export type BoardExit =
  | { kind: 'exit'; code: number; via: 'testdev' | 'tohost' }
  | { kind: 'reset' }
  | { kind: 'idle' } // waiting for an interrupt that nothing will raise
  | { kind: 'budget' }; // the instruction limit was reached

type Listener<T> = (value: T) => void;

export class Board {
  readonly dram: Dram;
  readonly bus = new MmioBus();
  readonly clock: VirtualClock;
  readonly hart: Hart;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly testdev = new TestDevice();
  readonly iommu: Iommu;
  readonly virtio: VirtioMmio[] = [];
  /** Set once the program has asked to stop (test device or HTIF tohost). */
  exit: BoardExit | null = null;
  /** DRAM offset of the HTIF `tohost` word, or -1 (see `watchTohost`). */
  private tohostOff = -1;
  private readonly uartListeners: Listener<number>[] = [];

  constructor(opts: BoardOptions = {}) {
    this.dram = new Dram(opts.dramSize ?? DEFAULT_DRAM_SIZE);
    this.clock = new VirtualClock(opts.cpuHz ?? DEFAULT_CPU_HZ, opts.timerHz ?? DEFAULT_TIMER_HZ);
    this.hart = new Hart(this.dram, this.bus, this.clock);
    this.clint = new Clint(this.clock, this.hart);
    this.hart.readTime = () => this.clint.mtime();
    this.plic = new Plic(this.hart);
    this.uart = new Uart16550(irqLine(this.plic, UART_IRQ));
    this.uart.onOutput = (byte) => {
      for (const l of this.uartListeners) l(byte);
    };
    this.iommu = new Iommu(this.dram);
    this.testdev.onExit = (code) => {
      this.exit = code === 'reset' ? { kind: 'reset' } : { kind: 'exit', code, via: 'testdev' };
      this.hart.halted = true;
    };
    this.bus.attach(TESTDEV_BASE, TESTDEV_SIZE, this.testdev);
    this.bus.attach(CLINT_BASE, CLINT_SIZE, this.clint);
    this.bus.attach(PLIC_BASE, PLIC_SIZE, this.plic);
    this.bus.attach(UART_BASE, UART_SIZE, this.uart);
    this.bus.attach(IOMMU_BASE, IOMMU_SIZE, this.iommu);
    const devices = opts.virtio ?? [];
    if (devices.length > VIRTIO_MMIO_SLOTS) throw new Error(`board: at most ${VIRTIO_MMIO_SLOTS} virtio devices, got ${devices.length}`);
    for (let slot = 0; slot < VIRTIO_MMIO_SLOTS; slot++) {
      const dev = devices[slot] ?? null;
      const mmio = new VirtioMmio(slot, dev, this.iommu.port(slot), irqLine(this.plic, virtioSlotIrq(slot)), this.clock);
      this.virtio.push(mmio);
      this.bus.attach(virtioSlotBase(slot), VIRTIO_MMIO_STRIDE, mmio);
    }
  }

  /** Call `fn` with every byte the UART transmits. */
  onUartOutput(fn: Listener<number>): void {
    this.uartListeners.push(fn);
  }

  /**
   * Watch the HTIF `tohost` word at physical address `pa` (from the ELF symbol table): a
   * nonzero write ends the run, riscv-tests style — 1 is success, (code << 1) | 1 is failure
   * with `code`. Stores to its page take the hart's slow path, so the exit is seen at once.
   */
  watchTohost(pa: number): void {
    const off = this.dram.offsetOf(pa);
    if (off < 0) throw new Error(`board: tohost at 0x${(pa >>> 0).toString(16)} is not in DRAM`);
    this.tohostOff = off;
    this.hart.watchPage = off & ~0xfff;
    this.hart.onWatchedStore = () => this.checkTohost();
  }

  /** Run for at most `maxInsns` instructions (or until the program exits or idles forever). */
  run(maxInsns: number): BoardExit | null {
    const hart = this.hart;
    const end = hart.instret + maxInsns;
    while (this.exit === null) {
      const left = end - hart.instret;
      if (left <= 0) return { kind: 'budget' };
      const reason: StopReason = hart.run(left);
      if (this.exit !== null) break;
      if (reason === 'idle') return { kind: 'idle' };
      if (reason === 'halted') break;
    }
    return this.exit;
  }

  private checkTohost(): void {
    if (this.tohostOff < 0 || this.exit !== null) return;
    const v = this.dram.i32[this.tohostOff >> 2];
    if (v === 0) return;
    // HTIF: bit 0 set means "exit with code v >> 1"; other values are device commands (syscall
    // proxies) that l4ts does not implement: report them as a failure with the raw value.
    this.exit = { kind: 'exit', code: (v & 1) === 1 ? v >>> 1 : v, via: 'tohost' };
    this.hart.halted = true;
    this.hart.yieldRequested = true; // leave the instruction loop after this store
  }
}
