// `l4ts start` (what `npm start` runs): boots the default system.
//
// Until the kernel's default system (root task, servers, console driver) is in place, this
// assembles and runs the bare-metal demo user/bare/hello.S on the board: UART output, timer
// interrupts with wfi, and power-off through the test device.

import { readFileSync } from 'node:fs';
import { assemble } from '../toolchain/asm/assemble.ts';
import { Board } from '../machine/board.ts';
import { HostConsole } from './host-console.ts';
import { loadBareElf, runBoard } from './run-bare.ts';

const HELLO = new URL('../../user/bare/hello.S', import.meta.url);

export async function startCommand(_argv: string[]): Promise<number> {
  const { elf } = assemble(readFileSync(HELLO, 'utf8'));
  const board = new Board();
  loadBareElf(board, elf);
  const console = new HostConsole(board, null);
  const t0 = performance.now();
  let code: number;
  try {
    code = await runBoard(board, console, 100_000_000);
  } finally {
    console.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write(`l4ts: exit=${code} insns=${board.hart.instret} seconds=${seconds.toFixed(3)} virtual_ms=${(board.clock.nanos() / 1e6).toFixed(1)}\n`);
  return code === 0 ? 0 : 1;
}
