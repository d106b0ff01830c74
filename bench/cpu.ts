// `npm run bench -- cpu [--runs N]`: interpreter speed on CPU-bound code.
//
// Workload: bench/programs/cpu-mix.S (sieve, CRC-32, integer matrix multiply), assembled by the
// project's assembler and run (1) bare in M-mode and (2) in U-mode under Sv32 paging, the way
// every user task runs under the kernel. Reports millions of retired instructions per second of
// host time, median of N runs each. Last line: JSON with `mips` (the paged U-mode median, the
// figure that matters for l4ts) and the details.

import { readFileSync } from 'node:fs';
import { assemble } from '../src/toolchain/asm/assemble.ts';
import { Board } from '../src/machine/board.ts';
import { loadBareElf } from '../src/cli/run-bare.ts';
import { PRIV_U } from '../src/machine/csr.ts';
import { median, round } from './stats.ts';

const SOURCE = new URL('./programs/cpu-mix.S', import.meta.url);

/** Map the first 4 GiB... only what the program needs: DRAM and the test device, as 4 MiB
 * superpages with U|R|W|X|A|D, in a page table placed at the top of DRAM. */
function enterUserMode(board: Board): void {
  const dram = board.dram;
  const root = dram.base + dram.size - 4096;
  const leaf = (pa: number) => (((pa >>> 12) << 10) | 0xdf) >>> 0; // V R W X U A D (G clear)
  for (let va = dram.base; va < dram.base + dram.size; va += 0x40_0000) {
    dram.writeU32(root + (va >>> 22) * 4, leaf(va));
  }
  dram.writeU32(root + 0, leaf(0)); // 0x0000_0000..0x003f_ffff: holds the test device
  const h = board.hart;
  h.priv = PRIV_U;
  h.setSatp((0x8000_0000 | (root >>> 12)) >>> 0);
}

function once(elf: Uint8Array, user: boolean): { insns: number; seconds: number; checksum: number } {
  const board = new Board({ dramSize: 32 << 20 });
  loadBareElf(board, elf);
  if (user) enterUserMode(board);
  const t0 = performance.now();
  const exit = board.run(2_000_000_000);
  const seconds = (performance.now() - t0) / 1000;
  if (exit === null || exit.kind !== 'exit' || exit.code !== 0) throw new Error(`cpu bench: program did not pass: ${JSON.stringify(exit)}`);
  return { insns: board.hart.instret, seconds, checksum: board.hart.x[10] >>> 0 };
}

export async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--runs');
  const runs = i >= 0 ? Number(argv[i + 1]) : 5;
  const { elf } = assemble(readFileSync(SOURCE, 'utf8'));
  const results: Record<string, { mips: number[]; insns: number; checksum: number }> = {};
  for (const mode of ['bare-m', 'paged-u'] as const) {
    const r = { mips: [] as number[], insns: 0, checksum: 0 };
    once(elf, mode === 'paged-u'); // warm-up: let V8 optimise the loop
    for (let k = 0; k < runs; k++) {
      const o = once(elf, mode === 'paged-u');
      r.mips.push(o.insns / o.seconds / 1e6);
      r.insns = o.insns;
      r.checksum = o.checksum;
    }
    results[mode] = r;
    console.log(`${mode.padEnd(8)} insns=${r.insns} median_mips=${round(median(r.mips))} runs=[${r.mips.map((m) => round(m)).join(', ')}] checksum=0x${r.checksum.toString(16)}`);
  }
  if (results['bare-m'].checksum !== results['paged-u'].checksum || results['bare-m'].insns !== results['paged-u'].insns) {
    throw new Error('cpu bench: bare and paged runs disagree (checksum or instruction count)');
  }
  console.log(JSON.stringify({
    suite: 'cpu',
    mips: round(median(results['paged-u'].mips)),
    mips_bare_m: round(median(results['bare-m'].mips)),
    insns: results['paged-u'].insns,
    runs,
  }));
}
