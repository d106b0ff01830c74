// Connects a board's UART to the host terminal: stdout receives every transmitted byte, stdin's
// bytes are pushed into the receive FIFO. A TTY is put in raw mode so keys reach the guest as
// typed (Ctrl-C is passed through too; Ctrl-] twice quits).

import type { Board } from '../machine/board.ts';

export class HostConsole {
  private out: number[] = [];
  private inputEnded = false;
  private waiter: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => this.input(chunk);
  private readonly onEnd = () => {
    this.inputEnded = true;
    this.wake();
  };
  private lastQuitKey = false;

  constructor(private readonly board: Board, private readonly stdin: NodeJS.ReadStream | null = process.stdin) {
    board.onUartOutput((b) => {
      this.out.push(b);
      if (b === 10 || this.out.length >= 4096) this.flush();
    });
    if (stdin !== null) {
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.on('data', this.onData);
      stdin.on('end', this.onEnd);
    } else {
      this.inputEnded = true;
    }
  }

  /** True while more input may still arrive. */
  get inputOpen(): boolean {
    return !this.inputEnded;
  }

  private input(chunk: Buffer): void {
    for (const b of chunk) {
      if (b === 0x1d && this.stdin?.isTTY) {
        if (this.lastQuitKey) {
          this.inputEnded = true;
          this.board.hart.halted = true;
        }
        this.lastQuitKey = !this.lastQuitKey;
      } else {
        this.lastQuitKey = false;
      }
    }
    this.board.uart.pushInput(new Uint8Array(chunk));
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Resolves when input arrives or ends. */
  waitForInput(): Promise<void> {
    if (this.inputEnded) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  flush(): void {
    if (this.out.length === 0) return;
    process.stdout.write(Buffer.from(this.out));
    this.out = [];
  }

  close(): void {
    this.flush();
    if (this.stdin !== null) {
      this.stdin.off('data', this.onData);
      this.stdin.off('end', this.onEnd);
      if (this.stdin.isTTY) this.stdin.setRawMode(false);
      this.stdin.pause();
    }
  }
}
