// `l4ts run-bare <elf> [--disk FILE] [--max-insns N]`: load an ELF32 RISC-V image into DRAM at
// its physical addresses, start the hart in M-mode at the entry point, and run until the program
// reports its exit through the test device or HTIF `tohost`.
//
// The last line on stderr is always
//   l4ts: exit=<code> insns=<retired instructions> seconds=<wall> mips=<millions per second>

import { readFileSync } from 'node:fs';
import { Board } from '../machine/board.ts';
import { FileBackend } from '../machine/virtio/blk-file.ts';
import { VirtioBlk } from '../machine/virtio/blk.ts';
import { parseElf32, ElfError } from '../abi/elf.ts';
import { HostConsole } from './host-console.ts';
import { intOption, parseArgs, UsageError } from './args.ts';

/** Exit codes for the runs that end without the program reporting one. */
export const EXIT_BUDGET = 124; // --max-insns reached
export const EXIT_IDLE = 125; // waiting for an interrupt that nothing can raise
export const EXIT_RESET = 126; // the program asked for a reset

/** Load `image` into the board's DRAM and point the hart at its entry. Throws on bad input. */
export function loadBareElf(board: Board, image: Uint8Array): { entry: number; tohost: number | null } {
  const elf = parseElf32(image);
  for (const seg of elf.segments) {
    const pa = seg.paddr >>> 0;
    if (!board.dram.contains(pa, seg.memsz)) {
      throw new ElfError(`segment at physical 0x${pa.toString(16)} (+${seg.memsz} bytes) is outside DRAM 0x${board.dram.base.toString(16)}..0x${(board.dram.base + board.dram.size).toString(16)}`);
    }
    board.dram.writeBytes(pa, seg.data);
    board.dram.u8.fill(0, pa - board.dram.base + seg.data.length, pa - board.dram.base + seg.memsz);
  }
  board.hart.reset(elf.entry);
  const tohost = elf.symbols.get('tohost') ?? null;
  if (tohost !== null) board.watchTohost(tohost);
  return { entry: elf.entry, tohost };
}

export async function runBareCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { disk: { value: true, repeat: true }, 'max-insns': { value: true } });
  if (args.positionals.length !== 1) throw new UsageError('run-bare needs exactly one ELF file');
  const path = args.positionals[0];
  const maxInsns = intOption(args, 'max-insns', Number.MAX_SAFE_INTEGER);
  let image: Uint8Array;
  try {
    image = readFileSync(path);
  } catch (e) {
    process.stderr.write(`l4ts: cannot read ${path}: ${(e as Error).message}\n`);
    return finish(2, 0, 0);
  }
  const disks = (args.options.get('disk') ?? []).map((p) => new VirtioBlk(FileBackend.open(p)));
  const board = new Board({ virtio: disks });
  try {
    loadBareElf(board, image);
  } catch (e) {
    if (e instanceof ElfError || e instanceof RangeError) {
      process.stderr.write(`l4ts: ${path}: ${e.message}\n`);
      return finish(2, 0, 0);
    }
    throw e;
  }
  const console = new HostConsole(board, process.stdin.isTTY || !process.stdin.readableEnded ? process.stdin : null);
  const t0 = performance.now();
  let code: number;
  try {
    code = await runBoard(board, console, maxInsns);
  } finally {
    console.close();
  }
  return finish(code, board.hart.instret, (performance.now() - t0) / 1000);
}

/**
 * Run the board in slices, yielding to the host event loop between them so that terminal input
 * arrives. Returns the program's exit code, or one of the EXIT_* codes.
 */
export async function runBoard(board: Board, console: HostConsole, maxInsns: number): Promise<number> {
  const end = board.hart.instret + maxInsns;
  for (;;) {
    const left = end - board.hart.instret;
    const r = board.run(Math.min(left, 50_000_000));
    if (r !== null && r.kind === 'exit') return r.code;
    if (r !== null && r.kind === 'reset') return EXIT_RESET;
    if (board.hart.halted) return EXIT_IDLE; // quit from the console
    if (board.hart.instret >= end) {
      process.stderr.write(`l4ts: stopped after --max-insns ${maxInsns} instructions\n`);
      return EXIT_BUDGET;
    }
    if (r !== null && r.kind === 'idle') {
      if (!console.inputOpen) {
        process.stderr.write('l4ts: the machine waits for an interrupt that nothing will raise\n');
        return EXIT_IDLE;
      }
      console.flush();
      await console.waitForInput();
      continue;
    }
    console.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function finish(code: number, insns: number, seconds: number): number {
  const mips = seconds > 0 ? insns / seconds / 1e6 : 0;
  process.stderr.write(`l4ts: exit=${code} insns=${insns} seconds=${seconds.toFixed(3)} mips=${mips.toFixed(1)}\n`);
  if (code === 0) return 0;
  return (code & 0xff) === 0 ? 1 : code & 0xff;
}
