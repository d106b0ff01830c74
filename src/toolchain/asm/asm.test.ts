// Assembler behaviour: labels, local labels, %hi/%lo and %pcrel pairs, li, directives, layout,
// ELF output, and one case per error message. (Encodings against GNU: gnu.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, AsmError } from './assemble.ts';
import { parseElf32 } from '../../abi/elf.ts';
import * as E from '../rv32/encode.ts';

const BASE = 0x80000000;

function words(bytes: Uint8Array): number[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length >> 2 }, (_, i) => dv.getUint32(i * 4, true));
}

function text(src: string): number[] {
  return words(assemble(src).text);
}

/** Execute LUI/AUIPC/ADDI only, from `pc`: enough to check what li, la, %hi/%lo compute. */
function evalUpper(ws: number[], pc = BASE): number[] {
  const x = new Array<number>(32).fill(0);
  ws.forEach((w, i) => {
    const rd = (w >>> 7) & 31;
    const rs1 = (w >>> 15) & 31;
    switch (w & 0x7f) {
      case 0x37: x[rd] = (w & 0xfffff000) >>> 0; break;
      case 0x17: x[rd] = (pc + i * 4 + (w & 0xfffff000)) >>> 0; break;
      case 0x13: x[rd] = (x[rs1]! + (w >> 20)) >>> 0; break;
      default: throw new Error(`evalUpper: unexpected ${E.disassemble(w)}`);
    }
    x[0] = 0;
  });
  return x;
}

test('labels resolve forwards and backwards', () => {
  const w = text(`
_start: j fwd
back:   nop
fwd:    beq a0, a1, back
        jal ra, _start`);
  assert.deepEqual(w, [E.jal(0, 8), E.addi(0, 0, 0), E.beq(10, 11, -4), E.jal(1, -12)]);
});

test('numeric local labels: nearest definition before (b) or after (f)', () => {
  const w = text(`
1:  j 1f        # -> second 1:
    j 1b        # -> first 1:
1:  j 1b        # -> itself
    j 2f
2:  nop`);
  assert.deepEqual(w, [E.jal(0, 8), E.jal(0, -4), E.jal(0, 0), E.jal(0, 4), E.addi(0, 0, 0)]);
});

test('%hi/%lo pairs rebuild the address across the sign boundary of %lo', () => {
  for (const v of [0, 0x7ff, 0x800, 0xfff, 0x1000, 0x80000800, 0x800007ff, 0xfffff800, 0xffffffff]) {
    const w = text(`.equ X, ${v}\n lui a0, %hi(X)\n addi a0, a0, %lo(X)`);
    assert.equal(evalUpper(w)[10], v, `0x${v.toString(16)}`);
  }
  // A data label at 0x80003800: %hi rounds up, %lo is negative; also as a load offset.
  const r = assemble(`lui a0, %hi(v)\n lw a1, %lo(v)(a0)\n.data\n.space 0x800\nv: .word 1`);
  assert.equal(r.symbols.get('v'), 0x80001800);
  assert.deepEqual(words(r.text), [E.lui(10, 0x80002), E.lw(11, 10, -2048)]);
});

test('%pcrel_hi/%pcrel_lo(label) and la/lla reach the target from the AUIPC', () => {
  const r = assemble(`
_start: nop
1:      auipc a0, %pcrel_hi(target)
        addi  a0, a0, %pcrel_lo(1b)
        la    a1, target
        lla   a2, target
.rodata
.space 0x900
target: .word 0`);
  const x = evalUpper(words(r.text));
  const t = r.symbols.get('target')!;
  assert.equal(t, 0x80001900);
  assert.deepEqual([x[10], x[11], x[12]], [t, t, t]);
});

test('li: one or two instructions, GNU load_const choice, any 32-bit value', () => {
  const cases: [string, number[]][] = [
    ['0', [E.addi(10, 0, 0)]],
    ['-1', [E.addi(10, 0, -1)]],
    ['0x7ff', [E.addi(10, 0, 2047)]],
    ['0x800', [E.lui(10, 1), E.addi(10, 10, -2048)]],
    ['0x80000000', [E.lui(10, 0x80000)]],
    ['0xfffff800', [E.addi(10, 0, -2048)]],
    ['0x12345678', [E.lui(10, 0x12345), E.addi(10, 10, 0x678)]],
    ['-2147483648', [E.lui(10, 0x80000)]],
  ];
  for (const [v, want] of cases) {
    assert.deepEqual(text(`li a0, ${v}`), want, `li a0, ${v}`);
    assert.equal(evalUpper(want)[10], Number(BigInt.asUintN(32, BigInt(v))));
  }
  // A label (not known in pass 1) always takes LUI + ADDI, even when it could take one.
  const r = assemble('li a0, here\nhere: nop');
  assert.deepEqual(words(r.text).slice(0, 2), [E.lui(10, 0x80000), E.addi(10, 10, 8)]);
});

test('same-section label differences are constants in pass 1', () => {
  const r = assemble(`
a:  .word 1, 2, 3
b:  .space 16 - (b - a)
c:  .word c - a`);
  assert.equal(r.symbols.get('c'), BASE + 16);
  assert.deepEqual(words(r.text), [1, 2, 3, 0, 16]);
});

test('.equ/.set/= and . in an equ means the definition point', () => {
  const r = assemble(`
    .equ A, 3
    .set B, A * 2
    C = B + 1
    nop
    .equ HERE, .
    nop
    li a0, C`);
  assert.equal(r.symbols.get('A'), 3);
  assert.equal(r.symbols.get('B'), 6);
  assert.equal(r.symbols.get('C'), 7);
  assert.equal(r.symbols.get('HERE'), BASE + 4);
  assert.deepEqual(words(r.text).slice(2), [E.addi(10, 0, 7)]);
});

test('sections: .text .rodata .data .bss on separate pages in that order, .section by name and flags', () => {
  const r = assemble(`
    .data
d:  .word 1
    .bss
b:  .space 8
    .rodata
r:  .byte 2
    .section .text.init, "ax"
_start: nop
    .section .mystuff, "a"
m:  .byte 3
    .pushsection .tohost, "aw", @progbits
    .align 3
tohost: .dword 0
    .popsection
    .byte 4
    .previous
    .word 5
    .text
t:  ret`);
  assert.deepEqual(r.sections.map((s) => [s.name, s.vaddr, s.memsz]), [
    ['.text', BASE, 8], ['.rodata', BASE + 0x1000, 3], ['.data', BASE + 0x2000, 20], ['.bss', BASE + 0x3000, 8],
  ]);
  assert.equal(r.symbols.get('t'), BASE); // .text exists from the start, like in GNU as
  assert.equal(r.symbols.get('_start'), BASE + 4); // .text.init: created after .text
  assert.equal(r.symbols.get('m'), BASE + 0x1001);
  assert.equal(r.symbols.get('tohost'), BASE + 0x2008);
  assert.deepEqual([...r.rodata], [2, 3, 4]); // .popsection went back to .mystuff
  assert.equal(new DataView(r.data.buffer).getUint32(16, true), 5); // .previous: back to .tohost
  assert.equal(r.bssSize, 8);
  assert.equal(r.data.length, 20);
  assert.equal(r.entry, BASE + 4);
});

test('data directives: integers, floats, strings, space, alignment', () => {
  const r = assemble(`
    .data
    .byte 1, -1, 255
    .balign 4
    .half 0x1234, -2
    .word 0xdeadbeef
    .dword 0x0102030405060708
    .quad -1
    .float 1.5
    .double -2.0
    .string "a\\n"
    .asciz "b"
    .ascii "cd"
    .zero 2
    .space 3, 0x7f
    .p2align 3
    .align 1
    .byte 9
    .balign 4, 0xee
    .byte 10`);
  const hex = Buffer.from(r.data).toString('hex');
  assert.equal(hex, [
    '01ffff00', '3412feff', 'efbeadde', '0807060504030201', 'ffffffffffffffff', '0000c03f',
    '00000000000000c0', '610a00', '6200', '6364', '0000', '7f7f7f', '00000000', '09eeeeee', '0a',
  ].join(''));
});

test('code alignment pads with NOPs; data alignment with zeros', () => {
  assert.deepEqual(text('nop\n.align 4\nret'), [E.addi(0, 0, 0), E.addi(0, 0, 0), E.addi(0, 0, 0), E.addi(0, 0, 0), E.jalr(0, 1, 0)]);
  assert.deepEqual([...assemble('.data\n.byte 1\n.balign 4\n.byte 2').data], [1, 0, 0, 0, 2]);
});

test('comments (#, //, /* */), ; separators, case-insensitive mnemonics, x/f register names', () => {
  const w = text(`
    ADDI x1, x2, 3   // line comment
    /* a block
       comment */ add ra, sp, gp ; sub t0, t1, t2  # trailing
    fadd.s f1, f2, f3, rtz
    li a0, '#'`);
  assert.deepEqual(w, [E.addi(1, 2, 3), E.add(1, 2, 3), E.sub(5, 6, 7), E.fadd_s(1, 2, 3, 1), E.addi(10, 0, 35)]);
});

test('expressions use GNU precedence: * / % << >> before | & ^ before + -', () => {
  assert.deepEqual(text('addi a0, a0, 4 + 4 & 1\naddi a0, a0, 2 + 3 * 4\naddi a0, a0, -(1 << 4) >> 2'),
    [E.addi(10, 10, 4), E.addi(10, 10, 14), E.addi(10, 10, -4)]);
});

test('ELF output: entry, segments, symbols with binding, kind and size', () => {
  const r = assemble(`
    .globl main
    .type main, @function
main:
    nop
    ret
    .size main, . - main
    .data
    .type buf, @object
buf: .word 0
    .size buf, 4`, { entry: 'main', base: 0x10000 });
  assert.equal(r.entry, 0x10000);
  const elf = parseElf32(r.elf);
  assert.equal(elf.entry, 0x10000);
  assert.deepEqual(elf.segments.map((s) => [s.vaddr, s.memsz, s.flags]), [
    [0x10000, 8, { r: true, w: false, x: true }], [0x11000, 4, { r: true, w: true, x: false }],
  ]);
  assert.deepEqual(elf.symbolList.map((s) => [s.name, s.value, s.size, s.kind, s.global]), [
    ['buf', 0x11000, 4, 'object', false], ['main', 0x10000, 8, 'func', true],
  ]);
  assert.deepEqual([...r.lines], [[0x10000, 5], [0x10004, 6]]);
});

test('without _start the entry is the start of .text, with a note', () => {
  const r = assemble('.data\n.word 1\n.text\nnop');
  assert.equal(r.entry, BASE);
  assert.match(r.notes.join('\n'), /no '_start' symbol/);
});

test('every error names the line and says what is wrong', () => {
  // [source, detail, line (default 1)]
  const cases: [string, string | RegExp, number?][] = [
    ['addx a0, a0, 1', "unknown instruction 'addx'"],
    ['.frob 1', "unknown directive '.frob'"],
    ['add a0, a1, x32', "'x32' is not an integer register"],
    ['fadd.s fa0, a1, fa2', "'a1' is not a floating-point register"],
    ['add a0, a1', "'add' takes 3 operands (rd, rs1, rs2), got 2"],
    ['fadd.d fa0, fa1', "'fadd.d' takes 3 or 4 operands (fd, fs1, fs2, [rm]), got 2"],
    ['mv a0', "'mv' takes 2 operands, got 1"],
    ['add a0, , a1', /empty operand/],
    ['addi a0, a0, 2048', 'immediate 2048 out of range -2048..2047'],
    ['slli a0, a0, 32', 'shift amount 32 out of range 0..31'],
    ['lui a0, 0x100000', 'upper immediate 1048576 out of range 0..1048575'],
    ['lw a0, 4096(sp)', 'offset 4096 out of range -2048..2047'],
    ['lw a0, 4[sp]', /bad number '4'|unexpected/],
    ['amoadd.w a0, a1, 4(a2)', 'atomic memory operand must have offset 0'],
    ['beq a0, a1, . + 4096', 'beq: offset 4096 out of range -4096..4094'],
    ['beq a0, a1, . + 3', 'beq: offset 3 is odd'],
    ['jal . + 0x100000', 'jal: offset 1048576 out of range -1048576..1048574'],
    ['j nowhere', "undefined symbol 'nowhere'"],
    ['j 1f', "undefined symbol '1f'"],
    ['j 1b', "local label '1b' has no earlier definition"],
    ['x: nop\nx: nop', "symbol 'x' is already defined", 2],
    ['addi a0, a0, (1 + 2', "unexpected end of expression in expression '(1 + 2'"],
    ['addi a0, a0, 1 +* 2', "unexpected '*' in expression '1 +* 2'"],
    ['addi a0, a0, 09', "bad number '09'"],
    ['addi a0, a0, 1 @ 2', "unexpected '@' in expression '1 @ 2'"],
    ['addi a0, a0, 1 / 0', 'division by zero in expression'],
    ['.string "abc', /bad string literal/],
    ['.string "a\\qb"', /unknown escape \\q/],
    ['nop\n/* never closed\nnop', 'unterminated /* comment', 2],
    ['csrr a0, mstatsu', "unknown CSR 'mstatsu'"],
    ['csrr a0, 0x1000', 'CSR number 4096 out of range 0..4095'],
    ['csrrwi a0, mstatus, 32', 'CSR immediate 32 out of range 0..31'],
    ['fadd.d fa0, fa1, fa2, rzz', "bad rounding mode 'rzz' (rne, rtz, rdn, rup, rmm, dyn)"],
    ['fence rw, x', "bad fence set 'x' (use letters of iorw, in order)"],
    ['li a0, 0x100000000', 'li: value 4294967296 does not fit in 32 bits'],
    ['.space n\n.equ n, 4', ".space: 'n' must be a constant"],
    ['.balign 3', '.balign: 3 is not a power of two'],
    ['.align 13', '.align 13 out of range 0..12'],
    ['.bss\n.word 1', "'.word' in .bss: only .space/.zero and alignment are allowed in .bss", 2],
    ['.bss\nnop', 'instruction in .bss', 2],
    ['.byte 1\nnop', 'instruction at offset 1 of .text is not 4-byte aligned (add .align 2)', 2],
    ['.byte 256', '.byte value 256 out of range -128..255'],
    ['.half -32769', '.half value -32769 out of range -32768..65535'],
    ['.float 1.2.3', "bad floating-point number '1.2.3'"],
    ['addi a0, a0, %pcrel_lo(x)\nx: nop', /%pcrel_lo: no %pcrel_hi instruction at 0x80000004/],
    ['.equ a, b\n.equ b, a\nli t0, a', "symbol 'a' is defined in terms of itself", 3],
    ['tail a0, foo', "'tail' takes 1 operand, got 2"],
    ['lw a0, foo(bar)', "'bar' is not an integer register"],
    ['lw a0, foo(sp)', "undefined symbol 'foo'"],
    ['.section', ".section: bad section name ''"],
    ['.popsection', '.popsection without .pushsection'],
    ['.equ X', "'.equ' takes NAME, expression"],
    ['nop\n.equ X, nothere\nnop', "undefined symbol 'nothere'", 2],
    ['.text 1', "'.text' takes no operands"],
    ['addi a0, a0, 1 << 64', 'shift count 64 out of range 0..63'],
  ];
  for (const [src, msg, line = 1] of cases) {
    assert.throws(() => assemble(src), (e: unknown) => {
      assert.ok(e instanceof AsmError, `${src}: ${String(e)}`);
      assert.equal(e.line, line, `${src}: line`);
      const lines = src.split('\n');
      assert.equal(e.source, lines[e.line - 1], `${src}: source text`);
      assert.equal(e.message, `line ${e.line}: ${e.detail}`);
      if (typeof msg === 'string') assert.equal(e.detail, msg, src);
      else assert.match(e.detail, msg, src);
      return true;
    });
  }
});

test('errors outside any line: bad base, missing entry symbol', () => {
  assert.throws(() => assemble('nop', { base: 0x80000004 }), /line 0: base 0x80000004 must be a page-aligned 32-bit address/);
  assert.throws(() => assemble('nop', { entry: 'main' }), /line 0: entry symbol 'main' is not defined/);
});

test('the line of an error in pass 2 is the statement, not the definition site', () => {
  assert.throws(() => assemble('nop\nnop\n  j far_away\n'), (e: unknown) => e instanceof AsmError && e.line === 3 && e.source === '  j far_away');
});
