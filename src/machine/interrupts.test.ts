// Interrupts on the board, as programs see them: the CLINT timer and software interrupt, the
// PLIC with the UART's receive interrupt in M- and S-mode contexts, timer forwarding to S-mode
// the way OpenSBI does it, wfi sleeping through virtual time, the priority order, and the
// determinism of the whole.
// (RISC-V privileged spec §3.1.9 "mip and mie", §3.3.3 "WFI"; PLIC spec 1.0.0; the board's
// CLINT counts mtime at 10 MHz and the hart retires one instruction per 10 ns.)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP, PLIC, UART, enterMode, program, runAsm, runPass,
  assertPass,
} from './test-support.ts';

const MIE = 1 << 3;
const SIE = 1 << 1;
const MSIP = 1 << 3;
const MTIP = 1 << 7;
const MEIP = 1 << 11;
const SSIP = 1 << 1;
const STIP = 1 << 5;
const SEIP = 1 << 9;
const INT = 0x8000_0000;
const UART_IRQ = 10;
const PLIC_ENABLE = (ctx: number) => PLIC + 0x2000 + 0x80 * ctx;
const PLIC_THRESHOLD = (ctx: number) => PLIC + 0x20_0000 + 0x1000 * ctx;
const PLIC_CLAIM = (ctx: number) => PLIC + 0x20_0004 + 0x1000 * ctx;

/** Set mtimecmp to `reg` (not t0; high word 0). Clobbers t0. */
const setTimecmp = (reg: string) => `
    li t0, ${CLINT_MTIMECMP + 4}
    sw zero, 0(t0)
    li t0, ${CLINT_MTIMECMP}
    sw ${reg}, 0(t0)`;

/** PLIC: source 10 (UART) at priority 1, enabled for `ctx`, threshold 0; UART IER = RX data. */
const uartIrqSetup = (ctx: number) => `
    li t0, ${PLIC + 4 * UART_IRQ}
    li t1, 1
    sw t1, 0(t0)
    li t0, ${PLIC_ENABLE(ctx)}
    li t1, ${1 << UART_IRQ}
    sw t1, 0(t0)
    li t0, ${PLIC_THRESHOLD(ctx)}
    sw zero, 0(t0)
    li t0, ${UART}
    li t1, 1
    sb t1, 1(t0)`;

describe('CLINT timer', () => {
  test('mtime read through the CLINT agrees with the time CSR, also after a long straight run', () => {
    const r = runPass(`
    rdtime s1
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b                     # 2000 instructions = 200 ticks
    li t1, ${CLINT_MTIME}
    lw s2, 0(t1)
    rdtime s3
    li t0, 1000
1:  addi t0, t0, -1
    bnez t0, 1b
    li t1, ${CLINT_MTIME}
    sw zero, 0(t1)                  # mtime := 0 (the high word is 0 already)
    rdtime s4
    j pass
`);
    const d = r.reg('s2') - r.reg('s1');
    assert.ok(d === 200 || d === 201, `200 ticks passed, the CLINT says ${d}`);
    assert.ok(r.reg('s3') - r.reg('s2') <= 1);
    assert.ok(r.reg('s4') <= 1, `mtime was set to 0 just before: ${r.reg('s4')}`);
  });

  test('the timer interrupt is taken in M-mode exactly when mtime reaches mtimecmp', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    li t0, ${CLINT_MTIME}
    lw s0, 0(t0)
    addi s1, s0, 300                # 300 ticks = 3000 instructions from now
${setTimecmp('s1')}
    li t0, ${MTIP}
    csrs mie, t0
    csrr s7, mip                    # not yet pending
    li s2, 0
    csrsi mstatus, ${MIE}
    rdcycle s8
loop:
    addi s2, s2, 1
    j loop
    .align 2
handler:
    rdtime s3
    rdcycle s9
    csrr s4, mcause
    csrr s5, mepc
    csrr s6, mip
    j pass
`);
    assert.equal(r.reg('s7') & MTIP, 0);
    assert.equal(r.reg('s3'), r.reg('s1'), 'taken at mtime == mtimecmp');
    assert.equal(r.reg('s4'), (INT | 7) >>> 0);
    assert.ok(r.reg('s5') === r.sym('loop') || r.reg('s5') === r.sym('loop') + 4);
    assert.equal(r.reg('s6') & MTIP, MTIP);
    // The loop ran from cycle s8 + 1 until the deadline, two instructions per iteration.
    const loopCycles = r.reg('s9') - 1 - (r.reg('s8') + 1);
    assert.ok(Math.abs(2 * r.reg('s2') - loopCycles) <= 2, `${r.reg('s2')} iterations in ${loopCycles} cycles`);
    assert.equal(r.reg('s1') * 10, r.reg('s9') - 1, 'the handler started at the deadline cycle');
  });

  test('wfi sleeps until the timer: virtual time jumps, few instructions retire', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    rdtime s0
    li t0, 1000000
    add s1, s0, t0                  # 100 ms from now
${setTimecmp('s1')}
    li t0, ${MTIP}
    csrs mie, t0
    csrr s2, minstret
    wfi                             # MIE = 0: wakes up, takes no trap
    csrr s3, minstret
    rdtime s4
    li t0, 2000000
    add s5, s4, t0
${setTimecmp('s5')}
    csrsi mstatus, ${MIE}
wfi_site:
    wfi                             # MIE = 1: the interrupt is taken after the wfi
    li t5, 0xbad
    j fail
    .align 2
handler:
    csrr s6, mepc
    rdtime s7
    j pass
`, '', { maxInsns: 1000 });
    assert.equal(r.reg('s3') - r.reg('s2'), 2, 'wfi and the csrr retired, nothing else');
    assert.equal(r.reg('s4'), r.reg('s1'));
    assert.equal(r.reg('s6'), r.sym('wfi_site') + 4);
    assert.equal(r.reg('s7'), r.reg('s5'));
    assert.ok(r.instret < 100, `${r.instret} instructions retired`);
    assert.ok(r.cycles >= 3_000_000 * 10);
  });

  test('wfi with nothing that could wake it ends the run as idle', () => {
    const r = runAsm(program(`
    li t0, ${MTIP}
    csrs mie, t0                    # enabled, but mtimecmp is at its reset value (never)
    wfi
    j pass
`));
    assert.equal(r.exit?.kind, 'idle');
    assert.ok(r.instret < 20);
  });

  test('timer forwarded to S-mode: M sets STIP, S takes it, S asks M for the next deadline', () => {
    const r = runPass(`
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
    li t0, -1
    csrw mideleg, t0
    csrr s11, mideleg               # only SSI, STI, SEI can be delegated
    li t0, ${STIP}
    csrw mideleg, t0
    li t0, ${STIP}
    csrs mie, t0
    csrwi mcounteren, 2             # S may read time
    li s6, 0                        # MTIs seen by M
${enterMode('s', 's_code')}
s_code:
    csrsi sstatus, ${SIE}
    rdtime a0
    addi s1, a0, 500                # deadline
    mv a0, s1
    ecall                           # SBI set_timer(a0)
    li s2, 0
1:  addi s2, s2, 1
    j 1b
    .align 2
s_handler:
    csrr s4, scause
    rdtime s5
    li a0, -1
    ecall                           # set_timer(far away) also clears STIP
    j pass
    .align 2
m_handler:                          # ecall from S = set_timer(a0); MTI = forward as STIP
    csrr t0, mcause
    bltz t0, 1f
    li t1, ${CLINT_MTIMECMP + 4}
    sw zero, 0(t1)
    li t1, ${CLINT_MTIMECMP}
    sw a0, 0(t1)
    li t1, ${STIP}
    csrc mip, t1
    li t1, ${MTIP}
    csrs mie, t1
    csrr t1, mepc
    addi t1, t1, 4
    csrw mepc, t1
    mret
1:  addi s6, s6, 1
    csrr s7, mcause
    li t1, ${MTIP}
    csrc mie, t1
    li t1, ${STIP}
    csrs mip, t1
    mret
`);
    assert.equal(r.reg('s11'), SSIP | STIP | SEIP);
    assert.equal(r.reg('s6'), 1, 'M saw one timer interrupt');
    assert.equal(r.reg('s7'), (INT | 7) >>> 0);
    assert.equal(r.reg('s4'), (INT | 5) >>> 0, 'S took a supervisor timer interrupt');
    const late = r.reg('s5') - r.reg('s1');
    assert.ok(late >= 0 && late <= 2, `S saw the tick ${late} ticks after the deadline`);
    assert.ok(r.reg('s2') > 100, 'S ran its loop until then');
  });
});

describe('PLIC and the UART', () => {
  test('UART receive interrupt through PLIC context 0, taken in M-mode: claim, read, complete', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
${uartIrqSetup(0)}
    li t0, ${MEIP}
    csrs mie, t0
    csrsi mstatus, ${MIE}
    li s5, 0
1:  wfi
    j 1b
    .align 2
handler:
    csrr s4, mcause
    addi s5, s5, 1
    li t0, ${PLIC_CLAIM(0)}
    lw s1, 0(t0)                    # claim: 10
    lw s3, 0(t0)                    # again: 0, source 10 is in flight
    li t1, ${UART}
2:  lbu t2, 0(t1)
    sb t2, 0(t1)                    # echo
    li t3, 10
    beq t2, t3, 3f
    lbu t3, 5(t1)                   # LSR.DR: more bytes?
    andi t3, t3, 1
    bnez t3, 2b
    sw s1, 0(t0)                    # complete
    mret
3:  sw s1, 0(t0)
    rdtime s6
    j pass
`, '', {
      maxInsns: 10_000,
      before: (b) => {
        b.clock.at(500_000, () => b.uart.pushInput(new TextEncoder().encode('hi')));
        b.clock.at(900_000, () => b.uart.pushInput(new TextEncoder().encode('!\n')));
      },
    });
    assert.equal(r.output, 'hi!\n');
    assert.equal(r.reg('s1'), UART_IRQ);
    assert.equal(r.reg('s3'), 0);
    assert.equal(r.reg('s4'), (INT | 11) >>> 0);
    assert.equal(r.reg('s5'), 2, 'one interrupt per burst of input');
    assert.ok(r.reg('s6') >= 90_000, 'the second burst arrived at cycle 900 000');
    assert.ok(r.instret < 2_000, `wfi slept: ${r.instret} instructions`);
  });

  test('UART receive interrupt through PLIC context 1, delegated (SEIP) and taken in S-mode', () => {
    const r = runPass(`
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
${uartIrqSetup(1)}
    li t0, ${SEIP}
    csrw mideleg, t0
    csrs mie, t0
    li t0, ${MEIP}
    csrs mie, t0                    # M-level external interrupts enabled too: none must come
${enterMode('s', 's_code')}
s_code:
    csrsi sstatus, ${SIE}
    li s5, 0
1:  addi s5, s5, 1
    j 1b
    .align 2
s_handler:
    csrr s4, scause
    csrr s6, sip
    li t0, ${PLIC_CLAIM(1)}
    lw s1, 0(t0)
    li t1, ${UART}
    lbu s2, 0(t1)
    sw s1, 0(t0)                    # complete
    csrr s7, sip                    # SEIP gone: no more input
    j pass
    .align 2
m_handler:
    li t5, 0xbad
    j fail
`, '', { before: (b) => b.clock.at(20_000, () => b.uart.pushInput(new Uint8Array([0x41]))) });
    assert.equal(r.reg('s4'), (INT | 9) >>> 0);
    assert.equal(r.reg('s1'), UART_IRQ);
    assert.equal(r.reg('s2'), 0x41);
    assert.equal(r.reg('s6') & SEIP, SEIP);
    assert.equal(r.reg('s7') & SEIP, 0);
    assert.ok(r.reg('s5') > 5_000, 'the interrupt came at cycle 20 000');
  });
});

describe('software interrupts, enables and priority', () => {
  test('CLINT msip raises MSIP; mip.MSIP is read-only to software', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    li t0, ${MSIP}
    csrs mip, t0                    # no effect
    csrr s1, mip
    csrs mie, t0
    li t0, ${CLINT_MSIP}
    li t1, 1
    sw t1, 0(t0)
    csrr s2, mip
    csrsi mstatus, ${MIE}
after_enable:
    nop
    li t5, 0xbad
    j fail
    .align 2
handler:
    csrr s3, mcause
    csrr s4, mepc
    li t0, ${CLINT_MSIP}
    lw s5, 0(t0)
    sw zero, 0(t0)
    csrr s6, mip
    j pass
`);
    assert.equal(r.reg('s1') & MSIP, 0);
    assert.equal(r.reg('s2') & MSIP, MSIP);
    assert.equal(r.reg('s3'), (INT | 3) >>> 0);
    assert.equal(r.reg('s4'), r.sym('after_enable'), 'taken right after MIE was set');
    assert.equal(r.reg('s5'), 1);
    assert.equal(r.reg('s6') & MSIP, 0);
  });

  test('a pending interrupt is taken right after the mret that re-enables MIE', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    li t0, ${MSIP}
    csrs mie, t0
    li t0, ${CLINT_MSIP}
    li t1, 1
    sw t1, 0(t0)                    # pending, MIE = 0: not taken
    nop
    li t0, ${1 << 7}
    csrs mstatus, t0                # MPIE = 1
    li t0, ${3 << 11}
    csrs mstatus, t0                # MPP = M
    la t0, target
    csrw mepc, t0
    li s1, 0
    mret
target:
    li s1, 1                        # must not run before the handler
    j pass
    .align 2
handler:
    csrr s2, mepc
    mv s3, s1
    li t0, ${CLINT_MSIP}
    sw zero, 0(t0)
    mret
`);
    assert.equal(r.reg('s2'), r.sym('target'));
    assert.equal(r.reg('s3'), 0);
  });

  test('an M-level interrupt preempts S-mode whatever mstatus.MIE says', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    li t0, ${MSIP}
    csrs mie, t0
    csrci mstatus, ${MIE}
${enterMode('s', 's_code')}
s_code:
    li t0, ${CLINT_MSIP}
    li t1, 1
    sw t1, 0(t0)
after_site:
    nop
    li t5, 0xbad
    j fail
    .align 2
handler:
    csrr s1, mcause
    csrr s2, mepc
    csrr s3, mstatus
    li t0, ${CLINT_MSIP}
    sw zero, 0(t0)
    j pass
`);
    assert.equal(r.reg('s1'), (INT | 3) >>> 0);
    assert.equal(r.reg('s2'), r.sym('after_site'));
    assert.equal((r.reg('s3') >>> 11) & 3, 1, 'MPP = S');
  });

  test('a delegated interrupt preempts U-mode whatever sstatus.SIE says, and goes to S', () => {
    const r = runPass(`
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
    li t0, ${SSIP}
    csrw mideleg, t0
    csrs mie, t0
    csrs mip, t0                    # pending before U is entered; SIE = 0
    csrci mstatus, ${SIE}
${enterMode('u', 'u_code')}
u_code:
    li t5, 0xbad                    # never runs: the SSI is taken first
    j fail
    .align 2
s_handler:
    csrr s1, scause
    csrr s2, sepc
    csrr s3, sstatus
    csrci sip, ${SSIP}
    j pass
    .align 2
m_handler:
    li t5, 0xbad
    j fail
`);
    assert.equal(r.reg('s1'), (INT | 1) >>> 0);
    assert.equal(r.reg('s2'), r.sym('u_code'));
    assert.equal(r.reg('s3') & (1 << 8), 0, 'SPP = U');
  });

  test('six pending interrupts are taken in the order MEI, MSI, MTI, SEI, SSI, STI', () => {
    const r = runPass(`
    la t0, handler
    csrw mtvec, t0
    la s0, order
${uartIrqSetup(0)}
    li t0, ${CLINT_MSIP}
    li t1, 1
    sw t1, 0(t0)                    # MSI
${setTimecmp('zero')}
    li t0, ${SSIP | STIP | SEIP}
    csrs mip, t0
    li t0, ${MSIP | MTIP | MEIP | SSIP | STIP | SEIP}
    csrs mie, t0
    li t0, 2000
1:  addi t0, t0, -1                 # let the UART's byte arrive (cycle 1000)
    bnez t0, 1b
    csrr s1, mip
    csrsi mstatus, ${MIE}
    nop
    la t0, order
    sub s2, s0, t0                  # bytes logged
    j pass
    .align 2
handler:
    csrr t0, mcause
    andi t0, t0, 0xff
    sw t0, 0(s0)
    addi s0, s0, 4
    li t1, 11
    beq t0, t1, mei
    li t1, 3
    beq t0, t1, msi
    li t1, 7
    beq t0, t1, mti
    li t1, 9
    beq t0, t1, sei
    li t1, 1
    beq t0, t1, ssi
    li t1, 5
    beq t0, t1, sti
    li t5, 0xbad
    j fail
mei:
    li t0, ${PLIC_CLAIM(0)}
    lw t1, 0(t0)
    li t2, ${UART}
    lbu t3, 0(t2)
    sw t1, 0(t0)
    mret
msi:
    li t0, ${CLINT_MSIP}
    sw zero, 0(t0)
    mret
mti:
    li t1, -1
${setTimecmp('t1')}
    mret
sei:
    li t0, ${SEIP}
    csrc mip, t0
    mret
ssi:
    li t0, ${SSIP}
    csrc mip, t0
    mret
sti:
    li t0, ${STIP}
    csrc mip, t0
    mret
`, 'order: .space 64', { before: (b) => b.clock.at(1000, () => b.uart.pushInput(new Uint8Array([0x55]))) });
    assert.equal(r.reg('s1') & 0xaaa, MSIP | MTIP | MEIP | SSIP | STIP | SEIP, 'all six pending');
    assert.equal(r.reg('s2'), 24);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => r.word('order', i)), [11, 3, 7, 9, 1, 5]);
  });

  test('delegated interrupts taken in S follow SEI, SSI, STI; M-level ones still come first', () => {
    const r = runPass(`
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
    la s0, order
    li t0, ${SSIP | STIP | SEIP}
    csrw mideleg, t0
    csrs mip, t0
    li t0, ${SSIP | STIP | SEIP | MSIP}
    csrs mie, t0
    li t0, ${CLINT_MSIP}
    li t1, 1
    sw t1, 0(t0)                    # an M-level MSI as well
${enterMode('s', 's_code')}
s_code:
    csrsi sstatus, ${SIE}
    nop
    la t0, order
    sub s2, s0, t0
    j pass
    .align 2
s_handler:
    csrr t0, scause
    andi t0, t0, 0xff
    sw t0, 0(s0)
    addi s0, s0, 4
    li t1, 1
    beq t0, t1, 1f
    li a0, ${STIP}
    li t1, 5
    beq t0, t1, 2f
    li a0, ${SEIP}
2:  ecall                           # M clears the bit in a0 (S cannot)
    sret
1:  csrci sip, ${SSIP}
    sret
    .align 2
m_handler:
    csrr t0, mcause
    bltz t0, 1f
    csrc mip, a0                    # ecall from S: clear STIP or SEIP
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
1:  andi t0, t0, 0xff
    ori t0, t0, 0x100               # mark M-mode entries
    sw t0, 0(s0)
    addi s0, s0, 4
    li t0, ${CLINT_MSIP}
    sw zero, 0(t0)
    mret
`, 'order: .space 64');
    assert.equal(r.reg('s2'), 16);
    assert.deepEqual([0, 1, 2, 3].map((i) => r.word('order', i)), [0x103, 9, 1, 5]);
  });
});

describe('determinism', () => {
  test('the same program with timer interrupts and input gives the same counts and output twice', () => {
    const source = program(`
    la t0, handler
    csrw mtvec, t0
${uartIrqSetup(0)}
    li t0, ${MTIP | MEIP}
    csrs mie, t0
    rdtime t1
    addi t1, t1, 700
${setTimecmp('t1')}
    csrsi mstatus, ${MIE}
    li s1, 0                        # ticks
    li s2, 12345                    # a pseudo-random walk
    li s3, 0
1:  slli t1, s2, 13
    xor s2, s2, t1
    srli t1, s2, 17
    xor s2, s2, t1
    slli t1, s2, 5
    xor s2, s2, t1
    addi s3, s3, 1
    li t1, 20
    blt s1, t1, 1b
    rdcycle s4
    rdinstret s5
    j pass
    .align 2
handler:
    csrr t2, mcause
    andi t2, t2, 0xff
    li t3, 7
    beq t2, t3, tick
    li t2, ${PLIC_CLAIM(0)}         # UART: echo in brackets
    lw t3, 0(t2)
    li t4, ${UART}
    li t1, '['
    sb t1, 0(t4)
    lbu t1, 0(t4)
    sb t1, 0(t4)
    li t1, ']'
    sb t1, 0(t4)
    sw t3, 0(t2)
    mret
tick:
    addi s1, s1, 1
    andi t1, s2, 15
    addi t1, t1, 'a'
    li t4, ${UART}
    sb t1, 0(t4)                    # a letter that depends on where the loop was
    rdtime t1
    addi t1, t1, 700
    li t2, ${CLINT_MTIMECMP}
    sw t1, 0(t2)
    mret
`);
    const once = () => runAsm(source, {
      before: (b) => {
        for (const [cycle, ch] of [[33_333, 'x'], [77_777, 'y'], [111_111, 'z']] as const) {
          b.clock.at(cycle, () => b.uart.pushInput(new TextEncoder().encode(ch)));
        }
      },
    });
    const a = once();
    const b = once();
    assertPass(a);
    assertPass(b);
    assert.equal(a.output.length, 20 + 9);
    assert.match(a.output, /\[x\].*\[y\].*\[z\]/);
    assert.equal(a.instret, b.instret);
    assert.equal(a.cycles, b.cycles);
    assert.equal(a.output, b.output);
    assert.deepEqual(a.x, b.x);
    assert.equal(a.reg('s4'), b.reg('s4'));
  });
});
