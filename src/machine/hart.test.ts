// The hart's unprivileged instruction set, as programs run on the board: RV32I (ALU, lui/auipc,
// branches, jumps, loads and stores, misaligned accesses), M, A (LR/SC and every AMO), Zicsr's
// plain reads, Zifencei, and x0. Results are checked in registers and memory.
// (RISC-V unprivileged spec chapters 2 "RV32I", 13 "M", 14 "A".)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertPass, hex, program, runAsm, runPass, trapLogData, trapRecorder, type RunResult,
} from './test-support.ts';

const INT_MIN = -0x8000_0000;

interface Case {
  name: string;
  /** Assembly leaving the result in a2 (may use a0, a1, a3..a7, t0..t4). */
  code: string;
  expect: number | ((r: RunResult) => number);
}

/** Run every case in one program; each stores its a2 in `results`. Reports every mismatch. */
function runCases(cases: Case[], data = ''): RunResult {
  const body = cases.map((c) => `
    # ${c.name}
    ${c.code}
    sw a2, 0(s0)
    addi s0, s0, 4`).join('\n');
  const r = runPass(`
    la s0, results
${body}
    j pass
`, `results: .space ${4 * cases.length}\n${data}`);
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const want = (typeof c.expect === 'function' ? c.expect(r) : c.expect) >>> 0;
    const got = r.word('results', i);
    if (got !== want) bad.push(`${c.name}: got ${hex(got)}, want ${hex(want)}`);
  });
  assert.deepEqual(bad, []);
  return r;
}

/** A register-register case: a0 = a, a1 = b, `op a2, a0, a1`. */
const rr = (op: string, a: number, b: number, expect: number): Case => ({
  name: `${op} ${hex(a)}, ${hex(b)}`,
  code: `li a0, ${a | 0}\n    li a1, ${b | 0}\n    ${op} a2, a0, a1`,
  expect,
});
/** A register-immediate case: a0 = a, `op a2, a0, imm`. */
const ri = (op: string, a: number, imm: number, expect: number): Case => ({
  name: `${op} ${hex(a)}, ${imm}`,
  code: `li a0, ${a | 0}\n    ${op} a2, a0, ${imm}`,
  expect,
});

describe('RV32I integer computation', () => {
  test('register-register ALU operations at the edges', () => {
    runCases([
      rr('add', 0x7fff_ffff, 1, INT_MIN),
      rr('add', -1, 1, 0),
      rr('add', INT_MIN, INT_MIN, 0),
      rr('sub', 0, 1, -1),
      rr('sub', INT_MIN, 1, 0x7fff_ffff),
      rr('sub', 5, 5, 0),
      rr('sll', 1, 0, 1),
      rr('sll', 1, 31, INT_MIN),
      rr('sll', 1, 32, 1), // only the low 5 bits of rs2 count
      rr('sll', 3, 33, 6),
      rr('sll', 0x1234_5678, -1, 0), // shift by 31
      rr('srl', INT_MIN, 31, 1),
      rr('srl', INT_MIN, 0, INT_MIN),
      rr('srl', -1, 1, 0x7fff_ffff),
      rr('srl', -1, 32, -1),
      rr('sra', INT_MIN, 31, -1),
      rr('sra', INT_MIN, 1, 0xc000_0000),
      rr('sra', 0x7fff_ffff, 31, 0),
      rr('sra', -8, 0, -8),
      rr('sra', -8, 34, -2),
      rr('slt', -1, 1, 1),
      rr('slt', 1, -1, 0),
      rr('slt', 7, 7, 0),
      rr('slt', INT_MIN, 0x7fff_ffff, 1),
      rr('slt', 0x7fff_ffff, INT_MIN, 0),
      rr('sltu', -1, 1, 0),
      rr('sltu', 1, -1, 1),
      rr('sltu', 0, 0, 0),
      rr('sltu', 0x7fff_ffff, INT_MIN, 1),
      rr('xor', 0xff00_ff00, 0x0ff0_0ff0, 0xf0f0_f0f0),
      rr('or', 0xff00_ff00, 0x0ff0_0ff0, 0xfff0_fff0),
      rr('and', 0xff00_ff00, 0x0ff0_0ff0, 0x0f00_0f00),
    ]);
  });

  test('register-immediate ALU operations: sign-extended 12-bit immediates and shift amounts', () => {
    runCases([
      ri('addi', 0, -2048, -2048),
      ri('addi', 0, 2047, 2047),
      ri('addi', 0x7fff_ffff, 1, INT_MIN),
      ri('addi', 5, -6, -1),
      ri('slti', -1, 0, 1),
      ri('slti', 0, -1, 0),
      ri('slti', -2049, -2048, 1),
      ri('slti', INT_MIN, 2047, 1),
      ri('sltiu', 0, -1, 1), // -1 sign-extends to 0xffffffff
      ri('sltiu', -1, -1, 0),
      ri('sltiu', 0x7ff, 2047, 0),
      ri('sltiu', 0, 1, 1), // seqz
      ri('sltiu', 1, 1, 0),
      ri('xori', 0x1234_5678, -1, ~0x1234_5678),
      ri('xori', 0, -2048, 0xffff_f800),
      ri('ori', 0, -2048, 0xffff_f800),
      ri('ori', 0x1000_0000, 0x7ff, 0x1000_07ff),
      ri('andi', 0x1234_5678, -16, 0x1234_5670),
      ri('andi', -1, 0x7ff, 0x7ff),
      ri('slli', 1, 0, 1),
      ri('slli', 1, 31, INT_MIN),
      ri('slli', 0x8000_0001, 1, 2),
      ri('srli', INT_MIN, 31, 1),
      ri('srli', -1, 0, -1),
      ri('srli', -1, 28, 0xf),
      ri('srai', INT_MIN, 31, -1),
      ri('srai', INT_MIN, 0, INT_MIN),
      ri('srai', 0x4000_0000, 30, 1),
      ri('srai', -2, 1, -1),
    ]);
  });

  test('lui and auipc', () => {
    runCases([
      { name: 'lui 0xfffff', code: 'lui a2, 0xfffff', expect: 0xffff_f000 },
      { name: 'lui 0x80000', code: 'lui a2, 0x80000', expect: INT_MIN },
      { name: 'lui 0', code: 'li a2, -1\n    lui a2, 0', expect: 0 },
      { name: 'lui then addi (li of a large value)', code: 'li a2, 0x12345fff', expect: 0x1234_5fff },
      { name: 'auipc 0', code: 'auipc_0: auipc a2, 0', expect: (r) => r.sym('auipc_0') },
      { name: 'auipc 0x12345', code: 'auipc_1: auipc a2, 0x12345', expect: (r) => r.sym('auipc_1') + 0x1234_5000 },
      { name: 'auipc 0x80000 wraps', code: 'auipc_2: auipc a2, 0x80000', expect: (r) => (r.sym('auipc_2') + 0x8000_0000) | 0 },
    ]);
  });
});

describe('RV32I control transfer', () => {
  test('every branch, taken and not taken, with signed and unsigned comparisons', () => {
    const table: [string, number, number, boolean][] = [
      ['beq', 5, 5, true], ['beq', 5, 6, false], ['beq', -1, 0xffff_ffff, true],
      ['bne', 5, 6, true], ['bne', 0, 0, false],
      ['blt', -1, 1, true], ['blt', 1, -1, false], ['blt', 3, 3, false], ['blt', INT_MIN, 0x7fff_ffff, true],
      ['bge', 1, -1, true], ['bge', 3, 3, true], ['bge', -1, 1, false], ['bge', 0x7fff_ffff, INT_MIN, true],
      ['bltu', 1, -1, true], ['bltu', -1, 1, false], ['bltu', 3, 3, false], ['bltu', 0x7fff_ffff, INT_MIN, true],
      ['bgeu', -1, 1, true], ['bgeu', 3, 3, true], ['bgeu', 1, -1, false], ['bgeu', 0, 0, true],
    ];
    runCases(table.map(([op, a, b, taken], i) => ({
      name: `${op} ${a}, ${b}`,
      code: `li a0, ${a | 0}
    li a1, ${b | 0}
    li a2, 0
    ${op} a0, a1, br_taken_${i}
    li a2, 1
    j br_done_${i}
br_taken_${i}:
    li a2, 2
br_done_${i}:`,
      expect: taken ? 2 : 1,
    })));
  });

  test('backward branches loop the right number of times', () => {
    runCases([
      { name: 'blt backwards', code: 'li a2, 0\n    li a3, 5\n1:  addi a2, a2, 1\n    blt a2, a3, 1b', expect: 5 },
      { name: 'bne backwards', code: 'li a2, 0\n    li a3, 7\n1:  addi a3, a3, -1\n    addi a2, a2, 2\n    bne a3, zero, 1b', expect: 14 },
      // bgeu down-counter from 3: runs for 3, 2, 1, 0 and stops when a3 wraps to 0xffffffff
      { name: 'bltu backwards over the sign boundary', code: 'li a2, 0\n    li a3, 0x7ffffffe\n    li a4, 0x80000002\n1:  addi a3, a3, 1\n    addi a2, a2, 1\n    bltu a3, a4, 1b', expect: 4 },
      { name: 'bge backwards with negatives', code: 'li a2, 0\n    li a3, 2\n    li a4, -2\n1:  addi a3, a3, -1\n    addi a2, a2, 1\n    bge a3, a4, 1b', expect: 5 },
    ]);
  });

  test('jal and jalr write the link register and jump; jalr clears bit 0 of the target', () => {
    const r = runPass(`
jal_site:
    jal ra, 1f
    li t5, 1
    j fail
1:  mv s1, ra                       # s1 = jal_site + 4
    la a0, jalr_target
    addi a0, a0, 1                  # odd target: bit 0 is cleared, so no trap
jalr_site:
    jalr ra, 0(a0)
    li t5, 2
    j fail
jalr_target:
    mv s2, ra                       # s2 = jalr_site + 4
    la a0, neg_target
    addi a0, a0, 8
jalr_neg_site:
    jalr s3, -8(a0)                 # negative offset
    li t5, 3
    j fail
neg_target:
    la a0, same_target
jalr_same_site:
    jalr a0, 0(a0)                  # rd == rs1: target uses the old value
    li t5, 4
    j fail
same_target:
    mv s4, a0                       # s4 = jalr_same_site + 4
    jal zero, 1f                    # j: no link
    li t5, 5
    j fail
1:  li s5, 0
jal_fwd_site:
    jal s5, 2f                      # forward
2:  mv s6, s5
    j pass
`);
    assert.equal(r.reg('s1'), r.sym('jal_site') + 4);
    assert.equal(r.reg('s2'), r.sym('jalr_site') + 4);
    assert.equal(r.reg('s3'), r.sym('jalr_neg_site') + 4);
    assert.equal(r.reg('s4'), r.sym('jalr_same_site') + 4);
    assert.equal(r.reg('s6'), r.sym('jal_fwd_site') + 4);
  });

  test('a call/return chain through jal and ret', () => {
    const r = runPass(`
    li sp, 0x80100000
    li a0, 10
    call fact
    mv s1, a0
    j pass
fact:                               # recursive factorial
    addi sp, sp, -8
    sw ra, 4(sp)
    sw a0, 0(sp)
    li t0, 2
    blt a0, t0, 1f
    addi a0, a0, -1
    call fact
    lw t1, 0(sp)
    mul a0, a0, t1
    j 2f
1:  li a0, 1
2:  lw ra, 4(sp)
    addi sp, sp, 8
    ret
`);
    assert.equal(r.reg('s1'), 3628800);
  });
});

describe('RV32I loads and stores', () => {
  test('every load width with sign and zero extension', () => {
    const data = `
bytes: .byte 0x80, 0x7f, 0xff, 0x01, 0x34, 0x12, 0xfe, 0xca
`;
    runCases([
      { name: 'lb 0x80', code: 'la a0, bytes\n    lb a2, 0(a0)', expect: -128 },
      { name: 'lb 0x7f', code: 'la a0, bytes\n    lb a2, 1(a0)', expect: 0x7f },
      { name: 'lb 0xff', code: 'la a0, bytes\n    lb a2, 2(a0)', expect: -1 },
      { name: 'lbu 0x80', code: 'la a0, bytes\n    lbu a2, 0(a0)', expect: 0x80 },
      { name: 'lbu 0xff', code: 'la a0, bytes\n    lbu a2, 2(a0)', expect: 0xff },
      { name: 'lh 0x7f80', code: 'la a0, bytes\n    lh a2, 0(a0)', expect: 0x7f80 },
      { name: 'lh 0x01ff', code: 'la a0, bytes\n    lh a2, 2(a0)', expect: 0x01ff },
      { name: 'lh 0xcafe', code: 'la a0, bytes\n    lh a2, 6(a0)', expect: 0xffff_cafe },
      { name: 'lhu 0xcafe', code: 'la a0, bytes\n    lhu a2, 6(a0)', expect: 0xcafe },
      { name: 'lw', code: 'la a0, bytes\n    lw a2, 0(a0)', expect: 0x01ff_7f80 },
      { name: 'lw negative offset', code: 'la a0, bytes\n    addi a0, a0, 8\n    lw a2, -4(a0)', expect: 0xcafe_1234 },
    ], data);
  });

  test('stores of every width write exactly their bytes', () => {
    const r = runPass(`
    la a0, buf
    li a1, -1
    sw a1, 0(a0)
    sw a1, 4(a0)
    li a1, 0x12345678
    sb a1, 1(a0)                    # only 0x78
    sh a1, 6(a0)                    # only 0x5678
    sw a1, 8(a0)
    addi a2, a0, 16
    sw a1, -4(a2)                   # negative offset
    lw s1, 0(a0)
    lw s2, 4(a0)
    j pass
`, 'buf: .space 16');
    assert.equal(r.word('buf', 0), 0xffff_78ff);
    assert.equal(r.word('buf', 1), 0x5678_ffff);
    assert.equal(r.word('buf', 2), 0x1234_5678);
    assert.equal(r.word('buf', 3), 0x1234_5678);
    assert.equal(r.reg('s1'), 0xffff_78ff);
    assert.equal(r.reg('s2'), 0x5678_ffff);
  });

  test('misaligned loads and stores within a page', () => {
    const r = runPass(`
    la a0, buf
    li a1, 0x03020100
    sw a1, 0(a0)
    li a1, 0x07060504
    sw a1, 4(a0)
    lw s1, 1(a0)                    # 0x04030201
    lw s2, 3(a0)                    # 0x06050403
    lh s3, 1(a0)                    # 0x0201
    lhu s4, 3(a0)                   # 0x0403
    li a1, 0x8180
    sh a1, 9(a0)
    lh s5, 9(a0)                    # sign-extended 0x8180
    lhu s6, 9(a0)
    li a1, 0xaabbccdd
    sw a1, 13(a0)                   # crosses a word boundary
    lw s7, 13(a0)
    j pass
`, 'buf: .space 32');
    assert.equal(r.reg('s1'), 0x0403_0201);
    assert.equal(r.reg('s2'), 0x0605_0403);
    assert.equal(r.reg('s3'), 0x0201);
    assert.equal(r.reg('s4'), 0x0403);
    assert.equal(r.reg('s5'), 0xffff_8180);
    assert.equal(r.reg('s6'), 0x8180);
    assert.equal(r.reg('s7'), 0xaabb_ccdd);
    assert.equal(r.word('buf', 2), 0x0000_8180 << 8);
    assert.equal(r.word('buf', 3), 0xbbcc_dd00);
    assert.equal(r.word('buf', 4), 0x0000_00aa);
  });

  test('misaligned loads and stores across a page boundary', () => {
    const r = runPass(`
    la a0, page1                    # page1 - 2 .. page1 + 1 straddles two pages
    li a1, 0x11223344
    sw a1, -2(a0)
    lw s1, -2(a0)
    li a1, 0xa5b6
    sh a1, -1(a0)
    lhu s2, -1(a0)
    lh s3, -1(a0)
    lw s4, -3(a0)
    j pass
`, `
    .align 12
page0: .space 4096
page1: .space 4096
`);
    assert.equal(r.reg('s1'), 0x1122_3344);
    assert.equal(r.reg('s2'), 0xa5b6);
    assert.equal(r.reg('s3'), 0xffff_a5b6);
    const p1 = r.sym('page1');
    assert.equal(r.word(p1 - 4), 0xb644_0000);
    assert.equal(r.word(p1), 0x0000_11a5);
    assert.equal(r.reg('s4'), 0xa5b6_4400);
  });
});

describe('M extension', () => {
  const big = (v: number) => BigInt(v | 0);
  const ubig = (v: number) => BigInt(v >>> 0);
  const lo = (v: bigint) => Number(BigInt.asUintN(32, v));
  const hi = (v: bigint) => Number(BigInt.asUintN(32, v >> 32n));
  const values = [0, 1, -1, 2, -2, 3, 0x7fff_ffff, INT_MIN, 0x1234_5678, -0x1234_5678, 0xffff, 0x10000];

  test('mul, mulh, mulhsu and mulhu for every sign combination', () => {
    const cases: Case[] = [];
    for (const a of values) {
      for (const b of values) {
        cases.push(rr('mul', a, b, lo(big(a) * big(b))));
        cases.push(rr('mulh', a, b, hi(big(a) * big(b))));
        cases.push(rr('mulhsu', a, b, hi(big(a) * ubig(b))));
        cases.push(rr('mulhu', a, b, hi(ubig(a) * ubig(b))));
      }
    }
    runCases(cases);
  });

  test('division and remainder, including x/0 and INT_MIN/-1', () => {
    runCases([
      rr('div', 7, 2, 3), rr('div', -7, 2, -3), rr('div', 7, -2, -3), rr('div', -7, -2, 3),
      rr('rem', 7, 2, 1), rr('rem', -7, 2, -1), rr('rem', 7, -2, 1), rr('rem', -7, -2, -1),
      rr('divu', -1, 2, 0x7fff_ffff), rr('divu', INT_MIN, 3, 0x2aaa_aaaa), rr('remu', INT_MIN, 3, 2),
      rr('remu', -1, 10, 5),
      // Division by zero (unprivileged spec Table 13.1): quotient all ones, remainder the dividend
      rr('div', 5, 0, -1), rr('div', -5, 0, -1), rr('div', 0, 0, -1),
      rr('divu', 5, 0, 0xffff_ffff), rr('divu', 0, 0, 0xffff_ffff),
      rr('rem', 5, 0, 5), rr('rem', -5, 0, -5), rr('rem', INT_MIN, 0, INT_MIN),
      rr('remu', 5, 0, 5), rr('remu', -5, 0, -5),
      // Signed overflow: INT_MIN / -1 = INT_MIN, remainder 0
      rr('div', INT_MIN, -1, INT_MIN), rr('rem', INT_MIN, -1, 0),
      rr('div', INT_MIN, 1, INT_MIN), rr('div', INT_MIN, 2, -0x4000_0000),
      rr('divu', INT_MIN, -1, 0), rr('remu', INT_MIN, -1, INT_MIN),
      rr('rem', -1, -1, 0), rr('div', 0x7fff_ffff, -1, -0x7fff_ffff),
    ]);
  });
});

describe('A extension', () => {
  test('LR/SC: success, SC without LR, SC after another SC, SC to another address', () => {
    const r = runPass(`
    la a0, word
    la a1, other
    li t0, 100
    sw t0, 0(a0)
    sw t0, 0(a1)
    # 1. LR then SC: success (0), memory updated, LR returned the old value
    lr.w s1, (a0)
    li t0, 101
    sc.w s2, t0, (a0)
    # 2. SC after that SC: the reservation is gone
    li t0, 102
    sc.w s3, t0, (a0)
    # 3. SC with no LR at all since (a fresh address)
    li t0, 103
    sc.w s4, t0, (a1)
    # 4. LR on one word, SC on another: fails
    lr.w t1, (a0)
    li t0, 104
    sc.w s5, t0, (a1)
    # 5. and the reservation was consumed by that failed SC
    li t0, 105
    sc.w s6, t0, (a0)
    # 6. LR/SC with aq/rl bits: success
    lr.w.aq t1, (a0)
    li t0, 106
    sc.w.rl s7, t0, (a0)
    lw s8, 0(a0)
    lw s9, 0(a1)
    j pass
`, 'word: .word 0\nother: .word 0');
    assert.equal(r.reg('s1'), 100);
    assert.equal(r.reg('s2'), 0);
    assert.notEqual(r.reg('s3'), 0);
    assert.notEqual(r.reg('s4'), 0);
    assert.notEqual(r.reg('s5'), 0);
    assert.notEqual(r.reg('s6'), 0);
    assert.equal(r.reg('s7'), 0);
    assert.equal(r.reg('s8'), 106);
    assert.equal(r.reg('s9'), 100);
  });

  test('every AMO returns the old value and stores the combined one (signed and unsigned min/max)', () => {
    const mem = -5;
    const src = 3;
    const u = (v: number) => v >>> 0;
    const ops: [string, number][] = [
      ['amoswap.w', src],
      ['amoadd.w', mem + src],
      ['amoxor.w', mem ^ src],
      ['amoand.w', mem & src],
      ['amoor.w', mem | src],
      ['amomin.w', Math.min(mem, src)],
      ['amomax.w', Math.max(mem, src)],
      ['amominu.w', u(mem) < u(src) ? mem : src],
      ['amomaxu.w', u(mem) > u(src) ? mem : src],
    ];
    const body = ops.map(([op], i) => `
    la a0, cells
    addi a0, a0, ${4 * i}
    li t0, ${mem}
    sw t0, 0(a0)
    li t1, ${src}
    ${op}${i % 2 === 0 ? '' : '.aqrl'} t2, t1, (a0)
    la a1, olds
    sw t2, ${4 * i}(a1)`).join('\n');
    const r = runPass(`${body}\n    j pass\n`, `cells: .space ${4 * ops.length}\nolds: .space ${4 * ops.length}`);
    ops.forEach(([op, want], i) => {
      assert.equal(r.word('cells', i), want >>> 0, `${op}: memory`);
      assert.equal(r.word('olds', i), mem >>> 0, `${op}: old value in rd`);
    });
  });

  test('AMO min/max at the sign boundary', () => {
    const r = runPass(`
    la a0, cell
    li t0, 0x80000000
    sw t0, 0(a0)
    li t1, 0x7fffffff
    amomin.w zero, t1, (a0)
    lw s1, 0(a0)                    # INT_MIN stays (signed)
    amomaxu.w zero, t1, (a0)
    lw s2, 0(a0)                    # 0x80000000 stays (unsigned)
    amomax.w zero, t1, (a0)
    lw s3, 0(a0)                    # 0x7fffffff
    li t1, -1
    amominu.w zero, t1, (a0)
    lw s4, 0(a0)                    # 0x7fffffff stays
    amomaxu.w s5, t1, (a0)          # old value in s5, memory becomes -1
    lw s6, 0(a0)
    j pass
`, 'cell: .word 0');
    assert.equal(r.reg('s1'), 0x8000_0000);
    assert.equal(r.reg('s2'), 0x8000_0000);
    assert.equal(r.reg('s3'), 0x7fff_ffff);
    assert.equal(r.reg('s4'), 0x7fff_ffff);
    assert.equal(r.reg('s5'), 0x7fff_ffff);
    assert.equal(r.reg('s6'), 0xffff_ffff);
  });

  test('misaligned AMO, SC and LR trap: store/AMO misaligned (6) or load misaligned (4)', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    la a0, cell
    li t0, 77
    sw t0, 0(a0)
    addi a1, a0, 2
    li t1, 5
    li s1, 0x5a5a
amo_site:
    amoadd.w s1, t1, (a1)           # traps: s1 is not written
sc_site:
    sc.w s2, t1, (a1)
lr_site:
    lr.w s3, (a1)
    lw s4, 0(a0)                    # memory untouched
    j pass
${trapRecorder('m', 'handler', 'trap_log')}
`, `cell: .word 0, 0\n${trapLogData('trap_log')}`);
    const cell = r.sym('cell');
    assert.deepEqual(r.traps().map((t) => [t.cause, hex(t.epc), hex(t.tval)]), [
      [6, hex(r.sym('amo_site')), hex(cell + 2)],
      [6, hex(r.sym('sc_site')), hex(cell + 2)],
      [4, hex(r.sym('lr_site')), hex(cell + 2)],
    ]);
    assert.equal(r.reg('s1'), 0x5a5a);
    assert.equal(r.reg('s4'), 77);
  });
});

describe('x0, fences and CSR reads', () => {
  test('x0 stays zero whatever is written to it', () => {
    const r = runPass(`
    la a0, cell
    li t0, 123
    sw t0, 0(a0)
    addi x0, x0, 5
    li x0, 0x12345
    lui x0, 0xfffff
    auipc x0, 1
    add x0, t0, t0
    mul x0, t0, t0
    lw x0, 0(a0)
    lr.w x0, (a0)
    amoadd.w x0, t0, (a0)           # the memory still changes
    csrr x0, mscratch
    jal x0, 1f
1:  la t1, 2f
    jalr x0, 0(t1)
2:  mv s1, x0
    add s2, x0, x0
    sw x0, 4(a0)
    lw s3, 0(a0)
    j pass
`, 'cell: .word 0, -1');
    assert.equal(r.x[0], 0);
    assert.equal(r.reg('s1'), 0);
    assert.equal(r.reg('s2'), 0);
    assert.equal(r.word('cell', 1), 0);
    assert.equal(r.reg('s3'), 246);
  });

  test('fence and fence.i execute; code written by stores runs after fence.i', () => {
    const r = runPass(`
    fence
    fence rw, rw
    fence.i
    la a0, patch
    li t0, 0x02a00493               # addi s1, zero, 42
    sw t0, 0(a0)
    fence.i
patch:
    addi s1, zero, 1
    j pass
`);
    assert.equal(r.reg('s1'), 42);
  });

  test('counters read through cycle/instret/time and their h halves in M-mode', () => {
    const r = runPass(`
    rdinstret s1
    nop
    nop
    nop
    rdinstret s2
    rdcycle s3
    rdcycleh s4
    rdinstreth s5
    rdtimeh s6
    j pass
`);
    assert.equal(r.reg('s2') - r.reg('s1'), 4);
    assert.ok(r.reg('s3') > 0);
    assert.equal(r.reg('s4'), 0);
    assert.equal(r.reg('s5'), 0);
    assert.equal(r.reg('s6'), 0);
  });

  test('an unknown opcode ends the run through the unexpected-trap handler (the harness fails loudly)', () => {
    const r = runAsm(program('.word 0x0000007f\n    j pass'));
    assert.ok(r.exit?.kind === 'exit' && r.exit.code === (0xe000 | 2));
    assert.throws(() => assertPass(r));
  });
});
