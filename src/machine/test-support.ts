// Test support for the hart's suites: assemble a program with the project's assembler, load it
// on a fresh board, run it with an instruction limit, and hand back what a program can show —
// the exit, the registers, memory and the UART output.
//
// Conventions of the programs (see `program`):
//   - `_start` runs in M-mode with mtvec pointing at `unexpected_trap`, which ends the run with
//     exit code 0xE000 | mcause (0xF000 | code for an interrupt), so a stray trap fails loudly.
//   - `j pass` ends the run with exit code 0; `li t5, CODE; j fail` ends it with CODE (1..0xdfff).
//     pass and fail use t5 and t6 (x30, x31) only: every other register is as the program left it.
//   - `trapRecorder(...)` is an M- or S-mode handler that appends (cause, epc, tval, status) to a
//     log in memory and skips the trapping instruction (interrupts return to epc unchanged).

import assert from 'node:assert/strict';
import { assemble } from '../toolchain/asm/assemble.ts';
import { loadBareElf } from '../cli/run-bare.ts';
import { Board, type BoardExit } from './board.ts';

export const TESTDEV = 0x0010_0000;
export const CLINT = 0x0200_0000;
export const CLINT_MSIP = CLINT;
export const CLINT_MTIMECMP = CLINT + 0x4000;
export const CLINT_MTIME = CLINT + 0xbff8;
export const PLIC = 0x0c00_0000;
export const UART = 0x1000_0000;
export const DRAM = 0x8000_0000;

/** Exit codes of the unexpected-trap handler. */
export const UNEXPECTED_EXCEPTION = 0xe000;
export const UNEXPECTED_INTERRUPT = 0xf000;

export interface RunOptions {
  /** DRAM size (default 4 MiB). */
  dramSize?: number;
  /** Instruction limit (default 200 000). */
  maxInsns?: number;
  /** Bytes the host types at the UART before the program starts. */
  input?: string;
  /** Called after loading and before running (schedule host input, inspect the board). */
  before?: (board: Board) => void;
}

export interface RunResult {
  readonly board: Board;
  readonly exit: BoardExit | null;
  /** The integer registers at the end, as signed 32-bit values. */
  readonly x: Int32Array;
  /** Everything the UART transmitted, as Latin-1 text. */
  readonly output: string;
  /** Retired instructions and cycles at the end (minstret and mcycle as the hart counts them). */
  readonly instret: number;
  readonly cycles: number;
  readonly symbols: Map<string, number>;
  /** Register `r` ("a0", "x5", "t1", ...) as an unsigned 32-bit value. */
  reg(r: string): number;
  /** The address of symbol `name`. */
  sym(name: string): number;
  /** The 32-bit word (unsigned) at `addr`, or at symbol `addr` + 4·index. */
  word(addr: number | string, index?: number): number;
  /** Trap-log entries written by `trapRecorder` into the log named `log`. */
  traps(log?: string): TrapEntry[];
}

export interface TrapEntry {
  cause: number;
  epc: number;
  tval: number;
  status: number;
}

const ABI = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

export function regIndex(r: string): number {
  const m = /^x(\d+)$/.exec(r);
  const i = m ? Number(m[1]) : r === 'fp' ? 8 : ABI.indexOf(r);
  if (!(i >= 0 && i < 32)) throw new Error(`test-support: no register '${r}'`);
  return i;
}

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/**
 * The text around a program body: `_start` (mtvec = unexpected_trap), then `body`, then the
 * `pass`, `fail` and `unexpected_trap` routines. `data` goes into .data (page-aligned, after
 * .text). If the body falls through its end, the run fails with code 0xdead.
 */
export function program(body: string, data = ''): string {
  return `
    .text
    .globl _start
_start:
    la t0, unexpected_trap
    csrw mtvec, t0
${body}
    li t5, 0xdead
    j fail

    .align 2
pass:
    li t6, ${TESTDEV}
    li t5, 0x5555
    sw t5, 0(t6)
1:  j 1b

    .align 2
fail:
    slli t5, t5, 16
    li t6, 0x3333
    or t5, t5, t6
    li t6, ${TESTDEV}
    sw t5, 0(t6)
1:  j 1b

    .align 2
unexpected_trap:
    csrr t5, mcause
    bltz t5, 2f
    andi t5, t5, 0xff
    li t6, ${UNEXPECTED_EXCEPTION}
    or t5, t5, t6
    j fail
2:  andi t5, t5, 0xff
    li t6, ${UNEXPECTED_INTERRUPT}
    or t5, t5, t6
    j fail

    .data
    .align 4
${data}
`;
}

/**
 * A trap handler for mode `m` (uses mscratch, mcause, ... and mret) or `s` (sscratch, scause,
 * ... and sret), at label `name`, logging to `log` (a count word, then up to 16 entries of
 * cause, epc, tval, status). After an exception it resumes at epc + 4; after an instruction
 * fetch fault (cause 1 or 12) at ra, so a test reaches a bad address with `jalr ra, ...`; after
 * an interrupt at epc. A 17th trap ends the run with code 0xbad. Clobbers nothing (saves t0..t2 in `log`'s
 * save area). Put its text in the program body after a jump, and `trapLogData(log)` in .data.
 * With `gotoM` (M-mode only), an ecall made with a7 = 1 is logged and then continues at the
 * address in a6 in M-mode: the way a test in S or U goes back to M to change the setup.
 */
export function trapRecorder(mode: 'm' | 's', name: string, log: string, opts: { gotoM?: boolean } = {}): string {
  const p = mode;
  // The goto-M service: an ecall (from any mode) with a7 = 1 continues at a6 in M-mode.
  const gotoM = opts.gotoM !== true ? '' : `
    csrr t1, mcause
    li t2, 8
    bltu t1, t2, 3f
    li t2, 11
    bgtu t1, t2, 3f
    li t2, 1
    bne a7, t2, 3f
    li t1, ${3 << 11}
    csrs mstatus, t1
    csrw mepc, a6
    j 2f
3:`;
  return `
    .align 2
${name}:
    csrw ${p}scratch, t0
    la t0, ${log}_save
    sw t1, 0(t0)
    sw t2, 4(t0)
    la t0, ${log}
    lw t1, 0(t0)
    addi t2, t1, 1
    sw t2, 0(t0)
    li t2, 16
    bltu t1, t2, 1f
    li t5, 0xbad
    j fail
1:  slli t1, t1, 4
    add t0, t0, t1
    csrr t1, ${p}cause
    sw t1, 4(t0)
    csrr t1, ${p}epc
    sw t1, 8(t0)
    csrr t1, ${p}tval
    sw t1, 12(t0)
    csrr t1, ${p}status
    sw t1, 16(t0)
${gotoM}
    csrr t1, ${p}cause
    bltz t1, 2f
    li t2, 1
    beq t1, t2, 4f
    li t2, 12
    beq t1, t2, 4f
    csrr t1, ${p}epc
    addi t1, t1, 4
    csrw ${p}epc, t1
    j 2f
4:  csrw ${p}epc, ra
2:  la t0, ${log}_save
    lw t1, 0(t0)
    lw t2, 4(t0)
    csrr t0, ${p}scratch
    ${p}ret
`;
}

export function trapLogData(log: string): string {
  return `
    .align 4
${log}: .space ${4 + 16 * 16}
${log}_save: .space 8
`;
}

/**
 * Leave M-mode for `mode` at `label` (a label or an address) through mret: MPP := mode,
 * MPIE := `mpie`, mepc := label. Clobbers t0.
 */
export function enterMode(mode: 'u' | 's' | 'm', label: string | number, mpie = false): string {
  const mpp = mode === 'u' ? 0 : mode === 's' ? 1 : 3;
  return `
    li t0, ${3 << 11}
    csrc mstatus, t0
    li t0, ${mpp << 11}
    csrs mstatus, t0
    li t0, ${1 << 7}
    ${mpie ? 'csrs' : 'csrc'} mstatus, t0
    ${typeof label === 'number' ? 'li' : 'la'} t0, ${label}
    csrw mepc, t0
    mret
`;
}

/** Assemble `source`, load it on a new board, run it. */
export function runAsm(source: string, opts: RunOptions = {}): RunResult {
  const asm = assemble(source);
  const board = new Board({ dramSize: opts.dramSize ?? 4 << 20 });
  loadBareElf(board, asm.elf);
  let output = '';
  board.onUartOutput((b) => {
    output += String.fromCharCode(b);
  });
  if (opts.input !== undefined) board.uart.pushInput(new TextEncoder().encode(opts.input));
  opts.before?.(board);
  const exit = board.run(opts.maxInsns ?? 200_000);
  const x = Int32Array.from(board.hart.x);
  const sym = (name: string): number => {
    const v = asm.symbols.get(name);
    if (v === undefined) throw new Error(`test-support: no symbol '${name}'`);
    return v >>> 0;
  };
  const word = (addr: number | string, index = 0): number =>
    board.dram.readU32(((typeof addr === 'string' ? sym(addr) : addr) + 4 * index) >>> 0);
  return {
    board,
    exit,
    x,
    output,
    instret: board.hart.instret,
    cycles: board.clock.cycles,
    symbols: asm.symbols,
    reg: (r) => x[regIndex(r)] >>> 0,
    sym,
    word,
    traps(log = 'trap_log') {
      const n = Math.min(word(log), 16);
      const out: TrapEntry[] = [];
      for (let i = 0; i < n; i++) {
        out.push({ cause: word(log, 1 + 4 * i), epc: word(log, 2 + 4 * i), tval: word(log, 3 + 4 * i), status: word(log, 4 + 4 * i) });
      }
      return out;
    },
  };
}

/**
 * The trap log of `r` as readable lines "cause=C epc=SITE tval=V", where SITE is the name of
 * the symbol among `sites` at that address (or the hex address). Compare with `expectedTraps`.
 */
export function trapLines(r: RunResult, sites: string[], log = 'trap_log', addrOf = r.sym): string[] {
  const names = new Map<number, string>();
  for (const s of sites) names.set(addrOf(s), s);
  return r.traps(log).map((t) => `cause=${hex(t.cause)} epc=${names.get(t.epc) ?? hex(t.epc)} tval=${hex(t.tval)}`);
}

/** The lines `trapLines` gives for traps [cause, site, tval] (tval 'insn' = the word at site). */
export function expectedTraps(r: RunResult, traps: ExpectedTrap[]): string[] {
  return traps.map(([cause, site, tval]) =>
    `cause=${hex(cause)} epc=${site} tval=${hex(tval === 'insn' ? r.word(site) : tval)}`);
}

/** [cause, the label at epc, tval or 'insn' for the instruction's bits]. */
export type ExpectedTrap = [number, string, number | 'insn'];

/** Assert that the log holds exactly `traps`, in order. `addrOf` maps a site name to the epc it
 * stands for (default: its symbol; code run at another virtual address needs its own). */
export function assertTraps(r: RunResult, traps: ExpectedTrap[], log = 'trap_log', addrOf = r.sym): void {
  assert.deepEqual(trapLines(r, traps.map((t) => t[1]), log, addrOf), expectedTraps(r, traps));
}

/** A description of how a run ended, for assertion messages. */
export function describeExit(r: RunResult): string {
  const e = r.exit;
  const h = r.board.hart;
  let what = e === null ? 'no exit' : e.kind === 'exit' ? `exit code ${hex(e.code)}` : e.kind;
  if (e?.kind === 'exit' && (e.code & 0xe000) === UNEXPECTED_EXCEPTION) what += ` (unexpected exception ${e.code & 0xff})`;
  if (e?.kind === 'exit' && (e.code & 0xf000) === UNEXPECTED_INTERRUPT) what += ` (unexpected interrupt ${e.code & 0xff})`;
  return `${what}; pc=${hex(h.pc)} mepc=${hex(h.mepc)} mcause=${hex(h.mcause)} mtval=${hex(h.mtval)} instret=${r.instret}`;
}

/** Assert that the program ended through `pass`. */
export function assertPass(r: RunResult): void {
  assert.ok(r.exit?.kind === 'exit' && r.exit.code === 0, `program did not pass: ${describeExit(r)}`);
}

/** Assert that the program ended through `fail` (or the test device) with `code`. */
export function assertExit(r: RunResult, code: number): void {
  assert.ok(r.exit?.kind === 'exit' && r.exit.code === code, `expected exit code ${hex(code)}: ${describeExit(r)}`);
}

/** Run `body` (wrapped by `program`) and assert that it passes. */
export function runPass(body: string, data = '', opts: RunOptions = {}): RunResult {
  const r = runAsm(program(body, data), opts);
  assertPass(r);
  return r;
}

// --- Sv32 page tables, built in the program's .data -------------------------------------------

export const PTE = { V: 1, R: 2, W: 4, X: 8, U: 16, G: 32, A: 64, D: 128 } as const;

export interface Mapping {
  /** Virtual address of the page (4 KiB aligned, or 4 MiB aligned for a superpage). */
  va: number;
  /** Physical address: a number or an assembler expression (a label). */
  pa: number | string;
  /** PTE bits 7:0 (V is not implied: pass it). */
  flags: number;
  /** true: a 4 MiB superpage in the root table; false (default): a 4 KiB page. */
  superpage?: boolean;
  /** A label on the PTE itself, so that tests can find it (A/D bits) or programs can patch it. */
  name?: string;
}

/**
 * Sv32 page tables as .data text: the root table at label `root` and one leaf table per
 * 4 MiB region that has 4 KiB mappings (label `${root}_l0_${vpn1}`), each 4 KiB aligned.
 * Pointers to leaf tables are V-only PTEs. Raw `extra` entries let a test put a hand-made
 * PTE (e.g. a pointer outside DRAM) in the root: [index, value].
 */
export function pageTableData(maps: Mapping[], root = 'pt_root', extra: [number, number][] = []): string {
  const pte = (pa: number | string, flags: number): string =>
    typeof pa === 'number' ? `${((((pa >>> 12) << 10) | flags) >>> 0)}` : `((((${pa}) >> 12) << 10) | ${flags})`;
  const rootEntries = new Map<number, { value: string; name?: string }>();
  const leaves = new Map<number, Map<number, { value: string; name?: string }>>();
  for (const m of maps) {
    const vpn1 = m.va >>> 22;
    if (m.superpage) {
      rootEntries.set(vpn1, { value: pte(m.pa, m.flags), name: m.name });
    } else {
      let leaf = leaves.get(vpn1);
      if (leaf === undefined) {
        leaf = new Map();
        leaves.set(vpn1, leaf);
        rootEntries.set(vpn1, { value: pte(`${root}_l0_${vpn1}`, PTE.V) });
      }
      leaf.set((m.va >>> 12) & 0x3ff, { value: pte(m.pa, m.flags), name: m.name });
    }
  }
  for (const [i, v] of extra) rootEntries.set(i, { value: `${v >>> 0}` });
  const table = (label: string, entries: Map<number, { value: string; name?: string }>): string => {
    const lines = ['    .align 12', `${label}:`];
    let next = 0;
    for (const i of [...entries.keys()].sort((a, b) => a - b)) {
      if (i > next) lines.push(`    .space ${4 * (i - next)}`);
      const e = entries.get(i)!;
      lines.push(`${e.name !== undefined ? `${e.name}: ` : ''}    .word ${e.value}`);
      next = i + 1;
    }
    if (next < 1024) lines.push(`    .space ${4 * (1024 - next)}`);
    return lines.join('\n');
  };
  return [table(root, rootEntries), ...[...leaves].map(([vpn1, e]) => table(`${root}_l0_${vpn1}`, e))].join('\n');
}

/** Turn on Sv32 with the root table at `root` (clobbers t0, t1). Flushes with sfence.vma. */
export function enableSv32(root = 'pt_root'): string {
  return `
    la t0, ${root}
    srli t0, t0, 12
    li t1, 0x80000000
    or t0, t0, t1
    csrw satp, t0
    sfence.vma
`;
}

/** The identity superpages a paged test usually needs: DRAM's first 4 MiB (RWX, U as asked)
 * and the test device's 4 MiB region (RW), both with A and D set. */
export function identityMaps(user: boolean): Mapping[] {
  const u = user ? PTE.U : 0;
  return [
    { va: DRAM, pa: DRAM, flags: PTE.V | PTE.R | PTE.W | PTE.X | PTE.A | PTE.D | u, superpage: true },
    { va: 0, pa: 0, flags: PTE.V | PTE.R | PTE.W | PTE.A | PTE.D | u, superpage: true },
  ];
}
