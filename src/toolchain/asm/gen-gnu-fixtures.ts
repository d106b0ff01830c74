// Regenerates the GNU reference data used by two tests (needs binutils-riscv64-unknown-elf,
// which CI does not install; the tests themselves only read the checked-in output):
//   - src/toolchain/rv32/encode.test.ts, between the BEGIN/END GNU CASES markers: every table
//     instruction with the minimum, maximum and a random value for each field, as helper
//     arguments, the GNU word, and GNU objdump's text;
//   - src/toolchain/asm/gnu-fixture.ts: a large source covering every instruction, every
//     pseudo-instruction and every directive, with the bytes of each section and the symbol
//     values of the GNU-assembled and linked (our section layout) executable.
// Run: node --import tsx src/toolchain/asm/gen-gnu-fixtures.ts

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CSR_NUMBERS, FREG_NAMES, INSTRUCTIONS, XREG_NAMES } from '../rv32/opcodes.ts';

const GNU_AS = ['riscv64-unknown-elf-as', '-march=rv32imafd_zicsr_zifencei', '-mabi=ilp32d', '-mno-relax', '-mno-arch-attr'];
const LINKER_SCRIPT = `ENTRY(_start)
SECTIONS {
  . = 0x80000000;
  .text : { *(.text .text.*) }
  . = ALIGN(4096);
  .rodata : { *(.rodata .rodata.*) }
  . = ALIGN(4096);
  .data : { *(.data .data.*) *(.tohost) }
  . = ALIGN(4096);
  .bss : { *(.bss .bss.*) }
}
`;
const dir = mkdtempSync(join(tmpdir(), 'l4ts-gnu-'));
const run = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

let seed = 12345;
const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return (seed >>> 12) % n; };
const RANGES: Record<string, [number, number, number]> = {
  imm: [-2048, 2047, 1], shamt: [0, 31, 1], boff: [-4096, 4094, 2], joff: [-(1 << 20), (1 << 20) - 2, 2],
  uimm: [0, 0xfffff, 1], csr: [0, 4095, 1], zimm: [0, 31, 1], pred: [1, 15, 1], succ: [1, 15, 1], reg: [0, 31, 1],
};
const RM = ['rne', 'rtz', 'rdn', 'rup', 'rmm', '', '', 'dyn'];
const CSR_NAME = new Map([...CSR_NUMBERS].map(([n, v]) => [v, n]));
const fenceSet = (v: number): string => (v & 8 ? 'i' : '') + (v & 4 ? 'o' : '') + (v & 2 ? 'r' : '') + (v & 1 ? 'w' : '');

interface Case { name: string; args: (number | boolean)[]; asm: string }

/** Variant 0 takes every field's minimum, 1 its maximum, 2 a random value. */
function tableCases(): Case[] {
  const out: Case[] = [];
  for (const s of INSTRUCTIONS) {
    for (let v = 0; v < (s.operands.length === 0 ? 1 : 3); v++) {
      const pick = (k: string): number => {
        const [lo, hi, st] = RANGES[k]!;
        return v === 0 ? lo : v === 1 ? hi : lo + rnd(Math.floor((hi - lo) / st) + 1) * st;
      };
      const f: Record<string, number> = {};
      const txt: string[] = [];
      for (const k of s.operands) {
        switch (k) {
          case 'rd': case 'rs1': case 'rs2': f[k] = pick('reg'); txt.push(XREG_NAMES[f[k]]!); break;
          case 'fd': case 'fs1': case 'fs2': case 'fs3': f[k] = pick('reg'); txt.push(FREG_NAMES[f[k]]!); break;
          case 'mem': f.rs1 = pick('reg'); f.imm = pick('imm'); txt.push(`${f.imm}(${XREG_NAMES[f.rs1]})`); break;
          case 'amem': f.rs1 = pick('reg'); txt.push(`(${XREG_NAMES[f.rs1]})`); break;
          case 'boff': case 'joff': f.imm = pick(k); txt.push(`.${f.imm < 0 ? '' : '+'}${f.imm}`); break;
          case 'imm': case 'shamt': case 'uimm': f.imm = pick(k); txt.push(String(f.imm)); break;
          case 'csr': f.imm = v === 2 ? 0x300 : pick(k); txt.push(CSR_NAME.get(f.imm) ?? String(f.imm)); break;
          case 'zimm': f.zimm = pick(k); txt.push(String(f.zimm)); break;
          case 'pred': case 'succ': f[k] = pick(k); txt.push(fenceSet(f[k]!)); break;
          case 'rm':
            // GNU 2.40 takes no rounding mode on the exact conversions (default RNE there).
            if (s.funct3 !== 7) { f.rm = s.funct3; break; }
            f.rm = v === 0 ? 7 : rnd(5);
            if (v !== 0) txt.push(RM[f.rm]!);
            break;
        }
      }
      const aq = s.aqrl && (v & 1) === 1;
      const rl = s.aqrl && v >= 1;
      const mn = s.mnemonic + (s.aqrl ? ['', '.rl', '.aq', '.aqrl'][(aq ? 2 : 0) + (rl ? 1 : 0)] : '');
      const ops = s.operands.join(',');
      const rd = f.rd ?? f.fd!;
      const r1 = f.rs1 ?? f.fs1!;
      const r2 = f.rs2 ?? f.fs2!;
      let args: (number | boolean)[];
      if (s.aqrl) args = s.mnemonic === 'lr.w' ? [rd, r1, aq, rl] : [rd, r1, r2, aq, rl];
      else if (s.format === 'S') args = [r2, r1, f.imm!];
      else if (s.format === 'B') args = [r1, r2, f.imm!];
      else if (s.format === 'U' || s.format === 'J') args = [rd, f.imm!];
      else if (s.format === 'R4') args = [rd, r1, r2, f.fs3!, f.rm!];
      else if (ops.includes('csr')) args = [rd, f.imm!, f.zimm ?? r1];
      else if (ops.includes('pred')) args = [f.pred!, f.succ!];
      else if (s.operands.length === 0) args = [];
      else if (s.mnemonic === 'sfence.vma') args = [r1, r2];
      else if (s.format === 'I') args = [rd, r1, f.imm!];
      else {
        args = [rd, r1];
        if (ops.includes('s2')) args.push(r2);
        if (ops.includes('rm')) args.push(f.rm!);
      }
      out.push({ name: s.mnemonic.replace(/\./g, '_'), args, asm: `${mn} ${txt.join(', ')}`.trim() });
    }
  }
  return out;
}

function encodeCases(cases: Case[]): string {
  writeFileSync(join(dir, 'enc.s'), `.option norvc\n.text\n${cases.map((c) => c.asm).join('\n')}\n`);
  run(GNU_AS[0]!, ...GNU_AS.slice(1), join(dir, 'enc.s'), '-o', join(dir, 'enc.o'));
  const dump = run('riscv64-unknown-elf-objdump', '-d', '-M', 'no-aliases', join(dir, 'enc.o'));
  const lines = dump.split('\n').filter((l) => /^\s+[0-9a-f]+:\t[0-9a-f]{8}/.test(l));
  if (lines.length !== cases.length) throw new Error(`objdump shows ${lines.length} words for ${cases.length} cases`);
  return lines.map((l, i) => {
    const [, addr, word, text] = /^\s+([0-9a-f]+):\t([0-9a-f]{8})\s+(.*)$/.exec(l)!;
    const t = text!.replace(/\t/, ' ').replace(/\s*#.*$/, '').replace(/,([0-9a-f]+) <[^>]*>$/, (_m, a: string) => `,0x${a}`);
    const c = cases[i]!;
    return `  [${JSON.stringify(c.name)}, [${c.args.join(', ')}], 0x${word}, ${parseInt(addr!, 16)}, ${JSON.stringify(t)}],`;
  }).join('\n');
}

function asmFixture(table: Case[]): string {
  const source = HAND.replace(/# @TABLE@.*\n/, (m) => `${m}${table.map((c) => `    ${c.asm}\n`).join('')}`);
  writeFileSync(join(dir, 'big.S'), source);
  writeFileSync(join(dir, 'link.ld'), LINKER_SCRIPT);
  run(GNU_AS[0]!, ...GNU_AS.slice(1), join(dir, 'big.S'), '-o', join(dir, 'big.o'));
  run('riscv64-unknown-elf-ld', '-m', 'elf32lriscv', '--no-relax', '-T', join(dir, 'link.ld'), join(dir, 'big.o'), '-o', join(dir, 'big.elf'));
  const sections: string[] = [];
  for (const name of ['.text', '.rodata', '.data']) {
    const hdr = run('riscv64-unknown-elf-objdump', '-h', join(dir, 'big.elf')).split('\n').find((l) => l.includes(` ${name} `))!;
    const addr = parseInt(hdr.trim().split(/\s+/)[3]!, 16);
    run('riscv64-unknown-elf-objcopy', '-O', 'binary', '-j', name, join(dir, 'big.elf'), join(dir, 'sec.bin'));
    // Runs of 32 or more zero bytes are written as (0*N) to keep the fixture short.
    const hex = readFileSync(join(dir, 'sec.bin')).toString('hex')
      .replace(/(?:00){32,}/g, (z) => `\n(0*${z.length / 2})\n`)
      .split('\n').map((l) => l.replace(/(.{64})/g, '$1\n').trim()).filter((l) => l !== '').join('\n');
    sections.push(`  [${JSON.stringify(name)}, 0x${addr.toString(16)}, \`\n${hex.trim()}\`],`);
  }
  const syms = run('riscv64-unknown-elf-nm', '-n', join(dir, 'big.elf')).trim().split('\n')
    .map((l) => l.split(' ')).filter((p) => !p[2]!.startsWith('$'))
    .map((p) => `  [${JSON.stringify(p[2])}, 0x${p[0]}],`);
  return `// Generated by gen-gnu-fixtures.ts from GNU binutils 2.40 (as + ld, our section layout).
// Do not edit by hand: change the source in the generator and rerun it.

/** Assembly source covering every instruction, pseudo-instruction and directive. */
export const GNU_SOURCE = \`${source.replace(/\\/g, '\\\\').replace(/`/g, '\\`').replace(/\$\{/g, '\\${')}\`;

/** [section, address, contents] of the GNU-linked executable: hex, with runs of N zero
 *  bytes written as (0*N). */
export const GNU_SECTIONS: [string, number, string][] = [
${sections.join('\n')}
];

/** Every symbol of the GNU-linked executable (mapping symbols $x/$d excluded). */
export const GNU_SYMBOLS: [string, number][] = [
${syms.join('\n')}
];
`;
}

const HAND = `# Hand-written part: syntax, pseudo-instructions, relocation operators, directives.
    .option norvc
    .equ    ANSWER, 42
    .set    MASK, 0xff00
    TWELVE = 12
    .globl  _start
    .type   _start, @function
    .text
_start:
    nop
    li      a0, 0
    li      a1, -1
    li      a2, 0x7ff
    li      a3, 0x800
    li      a4, -2048
    li      a5, -2049
    li      a6, 0x80000000
    li      a7, 0xfffff800
    li      t0, 0x12345678
    li      t1, 0x7fffffff
    li      t2, 0xffffffff
    li      t3, 0x1000
    li      t4, 0x12345000
    li      t5, ANSWER
    li      t6, MASK | 0xf
    li      x5, TWELVE * 2
    mv      s0, s1
    not     s2, s3
    neg     s4, s5
    seqz    a0, a1
    snez    a0, a1
    sltz    a0, a1
    sgtz    a0, a1
    sgt     a0, a1, a2
    sgtu    a0, a1, a2
    beqz    a0, 1f
    bnez    a0, 1f
    blez    a0, 1f
    bgez    a0, 1f
    bltz    a0, 1f
    bgtz    a0, 1f
1:  bgt     a0, a1, 1b
    ble     a0, a1, 1b
    bgtu    a0, a1, 1b
    bleu    a0, a1, 1b
    j       1b
    jal     1b
    jal     t0, 1b
    jr      a0
    jalr    a0
    jalr    a1, a0
    jalr    ra, 8(a0)
    ret
    call    func
    call    t1, func
    tail    func
1:  j       1f
    j       1b
1:  nop
    la      a0, near
    lla     a1, near
    lui     a2, %hi(near)
    addi    a2, a2, %lo(near)
    lw      a3, %lo(near)(a2)
    sw      a3, %lo(near)(a2)
    lui     a2, %hi(far)
    addi    a2, a2, %lo(far)
.Lpc:
    auipc   a4, %pcrel_hi(near)
    addi    a4, a4, %pcrel_lo(.Lpc)
    lw      a5, %pcrel_lo(.Lpc)(a4)
    lw      a0, near
    sw      a0, near, t0
    flw     fa0, near, t1
    fsd     fa0, near, t2
    csrr    a0, mstatus
    csrw    mtvec, a0
    csrs    mie, a1
    csrc    mip, a2
    csrw    mscratch, 5
    csrs    sstatus, 2
    csrc    sstatus, 31
    csrwi   stvec, 1
    csrsi   sie, 2
    csrci   sip, 3
    csrrw   a0, satp, a1
    csrrs   a0, 0x7c0, zero
    rdcycle a0
    rdtime  a1
    rdinstret a2
    rdcycleh a3
    rdtimeh a4
    rdinstreth a5
    frcsr   a0
    fscsr   a1
    fscsr   a0, a1
    frrm    a0
    fsrm    a1
    fsrm    a0, a1
    frflags a0
    fsflags a1
    fsflags a0, a1
    fsrmi   3
    fsrmi   a0, 2
    fsflagsi 1
    fsflagsi a0, 4
    fmv.s   fa0, fa1
    fabs.s  fa0, fa1
    fneg.s  fa0, fa1
    fmv.d   fa0, fa1
    fabs.d  fa0, fa1
    fneg.d  fa0, fa1
    fmv.x.w a0, fa0
    fmv.w.x fa0, a0
    fmv.x.s a1, fa1
    fmv.s.x fa1, a1
    fadd.s  f1, f2, f3, rne
    fadd.d  f1, f2, f3, rtz
    fmul.d  f1, f2, f3, rdn
    fdiv.d  f1, f2, f3, rup
    fsub.d  f1, f2, f3, rmm
    fsqrt.d f1, f2, dyn
    fcvt.w.d a0, fa0, rtz
    fcvt.wu.s a0, fa0, rtz
    fmadd.d fa0, fa1, fa2, fa3, rne
    sfence.vma
    sfence.vma a0
    sfence.vma a0, a1
    fence
    fence   rw, rw
    fence   i, o
    fence.i
    fence.tso
    amoswap.w a0, a1, (a2)
    amoadd.w.aq a0, a1, (a2)
    amoor.w.rl a0, a1, 0(a2)
    amomax.w.aqrl a0, a1, (a2)
    lr.w    a0, (a1)
    lr.w.aqrl a0, (a1)
    sc.w.rl a0, a2, (a1)
    ecall; ebreak   # two statements on one line
    mret
    sret
    wfi
    unimp
    zext.b  a0, a1
    addi    a0, a0, (3 + 4) * 2 - 1
    addi    a0, a0, 4 + 4 & 1
    addi    a0, a0, 1 << 4 >> 2
    addi    a0, a0, -(~0x10)
    addi    a0, a0, 'A'
    addi    a0, a0, 'A' ^ 0x20 | 1
    addi    a0, a0, 017
    addi    a0, a0, 0b101
    addi    a0, a0, 100 / 7 % 5
    .Lconst = 7
    addi    a0, a0, .Lconst
    lw      a0, 4(x2)
    sw      x10, -4(fp)
    add     x31, x0, x15
    .balign 16
# @TABLE@ (one line per table instruction, generated)
func:
    ret
    .p2align 3
end:
    .size   _start, end - _start
    .type   obj, @object
    .size   obj, 4

    .section .rodata
str1:   .string "hello\\n"
str2:   .asciz  "tab\\tquote\\" back\\\\ hex\\x41 oct\\101"
str3:   .ascii  "ab", "cd"
        .align  2
table:  .word   _start, func, end - _start, -1, 0xffffffff
        .half   0x1234, -2
        .byte   1, 2, 255, -128
        .balign 8
        .dword  0x123456789abcdef0, -1
        .quad   near
        .2byte  7
        .short  -3
        .long   0x01020304
        .skip   2, 0x11
        .4byte  8
        .8byte  9
        .float  1.5, -0.0, 3.14159
        .double 2.5, -1e300, 0.1
    .section .rodata.extra
extra:  .word ANSWER
    .pushsection .data.pushed, "aw"
pushed: .word 0x77
    .popsection
        .word MASK

    .data
obj:    .word   0xdeadbeef
        .space  3, 0x55
        .zero   5
        .balign 4, 0xaa
        .byte   7
        .p2align 2
        .space  0x800 - (. - obj)
near:   .word   1
        .space  0x7fc
far:    .word   2
    .section .tohost, "aw", @progbits
    .align 3
tohost: .dword 0

    .bss
bss0:   .space  16
        .align  4
bss1:   .zero   100
`;

const table = tableCases();
const encPath = new URL('../rv32/encode.test.ts', import.meta.url);
const enc = readFileSync(encPath, 'utf8');
const begin = enc.indexOf('// BEGIN GNU CASES\n');
const end = enc.indexOf('  // END GNU CASES');
if (begin < 0 || end < 0) throw new Error('encode.test.ts: GNU CASES markers not found');
writeFileSync(encPath, `${enc.slice(0, begin)}// BEGIN GNU CASES\n${encodeCases(table)}\n${enc.slice(end)}`);
writeFileSync(new URL('./gnu-fixture.ts', import.meta.url), asmFixture(table));
console.log(`wrote ${table.length} encode cases and the assembler fixture (in ${dir})`);
