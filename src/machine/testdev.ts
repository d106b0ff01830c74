// The SiFive test finisher, as QEMU virt's "sifive,test0" at 0x0010_0000: the way a program
// (OpenSBI, a bare-metal test, the kernel) powers the board off or resets it.
//
// A write of 16 or 32 bits at offset 0, with the low 16 bits of the value:
//   0x5555                  pass:  onExit(0)
//   0x3333, code in 31:16   fail:  onExit(code) — the code as written, 0..0xffff (QEMU exits with
//                                  it unchanged, so a "fail" with code 0 is an exit status of 0)
//   0x7777                  reset: onExit('reset')
// Any other value, any other offset and any read do nothing (reads return 0).

import type { MmioDevice } from './bus.ts';

export const TESTDEV_BASE = 0x0010_0000;
export const TESTDEV_SIZE = 0x1000;

export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

export type ExitRequest = number | 'reset';

export class TestDevice implements MmioDevice {
  readonly name = 'test';
  /** Called when the program asks to power off (exit code) or reset. Set by the board. */
  onExit: ((code: ExitRequest) => void) | null = null;

  read(_offset: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || size === 1) return;
    const code = size === 4 ? (value >>> 16) & 0xffff : 0;
    switch (value & 0xffff) {
      case FINISHER_PASS: this.onExit?.(0); return;
      case FINISHER_FAIL: this.onExit?.(code); return;
      case FINISHER_RESET: this.onExit?.('reset'); return;
      default: return;
    }
  }
}
