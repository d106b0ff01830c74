// The hart's privileged architecture, as programs run on the board: traps from M, S and U,
// the xRET stacks, delegation, trap vectors, CSR privilege rules, mstatus TVM/TW/TSR/FS/MPRV,
// counter gating, misaligned fetch and the counters themselves.
// (RISC-V privileged spec chapter 3 "Machine-Level ISA" and chapter 4 "Supervisor-Level ISA";
// unprivileged spec "Zicsr" and "Zicntr".)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PTE, assertTraps, enableSv32, enterMode, identityMaps, pageTableData, program, runAsm, runPass,
  trapLogData, trapRecorder,
} from './test-support.ts';

// mstatus fields (privileged spec §3.1.6)
const SIE = 1 << 1;
const MIE = 1 << 3;
const SPIE = 1 << 5;
const MPIE = 1 << 7;
const SPP = 1 << 8;
const MPP = 3 << 11;
const FS = 3 << 13;
const MPRV = 1 << 17;
const TVM = 1 << 20;
const TW = 1 << 21;
const TSR = 1 << 22;
const SD = 1 << 31;

/** Back to M-mode at `label` through the recorder's goto-M ecall (clobbers a6, a7). */
const gotoM = (site: string, label: string) => `
    li a7, 1
    la a6, ${label}
${site}:
    ecall
`;
const mppOf = (status: number) => (status >>> 11) & 3;

const ILLEGAL = 2;
const M_HANDLER = trapRecorder('m', 'm_handler', 'trap_log', { gotoM: true });
const S_HANDLER = trapRecorder('s', 's_handler', 'strap_log');
const LOGS = `${trapLogData('trap_log')}\n${trapLogData('strap_log')}`;
const SET_HANDLERS = `
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
`;

/** Run `body` (with both recorders installed) and assert that it passes. */
function runPriv(body: string, data = '') {
  return runPass(`${SET_HANDLERS}\n${body}\n    j pass\n${M_HANDLER}\n${S_HANDLER}`, `${LOGS}\n${data}`);
}

describe('exceptions and their causes', () => {
  test('ecall from M, S and U: causes 11, 9, 8; mepc is the ecall; MPP is the old mode', () => {
    const r = runPriv(`
m_site:
    ecall
${enterMode('s', 's_code')}
s_code:
s_site:
    ecall
    li t0, ${SPP}
    csrc sstatus, t0                # sret to U
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_site:
    ecall
`);
    assertTraps(r, [[11, 'm_site', 0], [9, 's_site', 0], [8, 'u_site', 0]]);
    assert.deepEqual(r.traps().map((t) => mppOf(t.status)), [3, 1, 0]);
  });

  test('ebreak: cause 3 with tval = the address of the ebreak, in M and in U', () => {
    const r = runPriv(`
m_site:
    ebreak
${enterMode('u', 'u_code')}
u_code:
u_site:
    ebreak
`);
    assertTraps(r, [[3, 'm_site', r.sym('m_site')], [3, 'u_site', r.sym('u_site')]]);
  });

  test('illegal instruction: cause 2 with tval = the instruction bits', () => {
    const r = runPriv(`
zero_site:
    .word 0
ones_site:
    .word 0xffffffff
op_site:
    .word 0x0000007b                # custom-3 opcode: not implemented
shift_site:
    .word 0x02051513                # slli a0, a0, 32 (shamt[5] set): reserved on RV32
jalr_site:
    .word 0x00051567                # jalr with funct3 = 1
store_site:
    .word 0x00a53023                # sd a0, 0(a0): RV64 only
amo_site:
    .word 0x0805352f                # amoswap.d: RV64 only
csr_site:
    csrr a0, 0x7c0                  # a custom CSR that does not exist
${enterMode('u', 'u_code')}
u_code:
mret_site:
    mret
sret_site:
    sret
sfence_site:
    sfence.vma
`);
    assertTraps(r, [
      [ILLEGAL, 'zero_site', 0], [ILLEGAL, 'ones_site', 0xffff_ffff], [ILLEGAL, 'op_site', 'insn'],
      [ILLEGAL, 'shift_site', 'insn'], [ILLEGAL, 'jalr_site', 'insn'], [ILLEGAL, 'store_site', 'insn'],
      [ILLEGAL, 'amo_site', 'insn'], [ILLEGAL, 'csr_site', 'insn'],
      [ILLEGAL, 'mret_site', 0x3020_0073], [ILLEGAL, 'sret_site', 0x1020_0073],
      [ILLEGAL, 'sfence_site', 0x1200_0073],
    ]);
  });
});

describe('xRET and the trap-entry stacks', () => {
  test('mret: MIE := MPIE, MPIE := 1, MPP := U, and the mode becomes MPP', () => {
    const r = runPriv(`
    # 1. MPP = M, MPIE = 1, MIE = 0: stays in M with MIE = 1
    li t0, ${MPP | MPIE}
    csrs mstatus, t0
    li t0, ${MIE}
    csrc mstatus, t0
    la t0, 1f
    csrw mepc, t0
    mret
1:  csrr s1, mstatus
    # 2. MPP = M, MPIE = 0, MIE = 1: MIE becomes 0
    li t0, ${MPP}
    csrs mstatus, t0
    li t0, ${MPIE}
    csrc mstatus, t0
    la t0, 2f
    csrw mepc, t0
    mret
2:  csrr s2, mstatus
    # 3. MPP = S: the ecall there has cause 9
${enterMode('s', 's_code')}
s_code:
s_site:
    ecall
    # back in S: sret from S to S with SPIE = 1, SIE = 0
    li t0, ${SPP | SPIE}
    csrs sstatus, t0
    li t0, ${SIE}
    csrc sstatus, t0
    la t0, 3f
    csrw sepc, t0
    sret
3:  csrr s3, sstatus
s2_site:
    ecall                           # still S: cause 9
`);
    const s1 = r.reg('s1');
    assert.equal(s1 & MIE, MIE, 'mret copies MPIE=1 to MIE');
    assert.equal(s1 & MPIE, MPIE, 'mret sets MPIE');
    assert.equal(mppOf(s1), 0, 'mret sets MPP to U');
    const s2 = r.reg('s2');
    assert.equal(s2 & MIE, 0, 'mret copies MPIE=0 to MIE');
    assert.equal(s2 & MPIE, MPIE);
    const s3 = r.reg('s3');
    assert.equal(s3 & SIE, SIE, 'sret copies SPIE=1 to SIE');
    assert.equal(s3 & SPIE, SPIE, 'sret sets SPIE');
    assert.equal(s3 & SPP, 0, 'sret sets SPP to U');
    assertTraps(r, [[9, 's_site', 0], [9, 's2_site', 0]]);
  });

  test('sret from M-mode returns to SPP; sret with SPP = U enters U', () => {
    const r = runPriv(`
    li t0, ${SPP}
    csrs mstatus, t0
    la t0, s_code
    csrw sepc, t0
    sret
s_code:
s_site:
    ecall
    li t0, ${SPP}
    csrc sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_site:
    ecall
`);
    assertTraps(r, [[9, 's_site', 0], [8, 'u_site', 0]]);
  });

  test('trap entry to M: MPIE := MIE, MIE := 0, MPP := the old mode', () => {
    const r = runPriv(`
    csrsi mstatus, ${MIE}
m_site:
    ecall                           # from M with MIE = 1
    csrr s1, mstatus                # after mret: MIE restored
    csrci mstatus, ${MIE}
m2_site:
    ecall                           # from M with MIE = 0
`);
    const [t1, t2] = r.traps();
    assert.equal(t1.status & (MIE | MPIE | MPP), MPIE | MPP);
    assert.equal(t2.status & (MIE | MPIE | MPP), MPP);
    assert.equal(r.reg('s1') & MIE, MIE);
  });

  test('trap entry to S: SPIE := SIE, SIE := 0, SPP := the old mode', () => {
    const r = runPriv(`
    li t0, ${(1 << 8) | (1 << 2)}   # delegate ecall from U and illegal instruction
    csrw medeleg, t0
${enterMode('s', 's_code')}
s_code:
    csrsi sstatus, ${SIE}
s_site:
    .word 0                         # illegal, from S with SIE = 1
    csrr s1, sstatus
    li t0, ${SPP | SIE | SPIE}
    csrc sstatus, t0                # sret: SIE := SPIE = 0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_site:
    ecall                           # from U with SIE = 0
`);
    const [t1, t2] = r.traps('strap_log');
    assert.equal(t1.cause, ILLEGAL);
    assert.equal(t1.status & (SIE | SPIE | SPP), SPIE | SPP);
    assert.equal(t2.cause, 8);
    assert.equal(t2.status & (SIE | SPIE | SPP), 0);
    assert.equal(r.reg('s1') & SIE, SIE, 'sret restored SIE');
    assert.equal(r.traps().length, 0, 'nothing reached M');
  });

  test('mret to a mode below M clears MPRV', () => {
    const r = runPriv(`
    li t0, ${MPRV}
    csrs mstatus, t0
${enterMode('u', 'u_code')}
u_code:
u_site:
    ecall
`);
    const [t] = r.traps();
    assert.equal(t.cause, 8);
    assert.equal(t.status & MPRV, 0);
  });
});

describe('delegation and trap vectors', () => {
  test('medeleg sends exceptions from S and U to S, never those from M', () => {
    const r = runPriv(`
    li t0, ${(1 << 8) | (1 << 2) | (1 << 3)}
    csrw medeleg, t0
    li t0, -1
    csrw medeleg, t0
    csrr s1, medeleg                # which bits exist
    li t0, ${(1 << 8) | (1 << 2) | (1 << 3)}
    csrw medeleg, t0
m_ill_site:
    .word 0                         # from M: M handles it despite medeleg
${enterMode('s', 's_code')}
s_code:
s_ill_site:
    .word 0                         # delegated: S
s_ecall_site:
    ecall                           # ecall from S is not delegated: M
    li t0, ${SPP}
    csrc sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_ecall_site:
    ecall                           # delegated: S
u_brk_site:
    ebreak                          # delegated: S
`);
    assertTraps(r, [[ILLEGAL, 'm_ill_site', 0], [9, 's_ecall_site', 0]]);
    assertTraps(r, [[ILLEGAL, 's_ill_site', 0], [8, 'u_ecall_site', 0], [3, 'u_brk_site', r.sym('u_brk_site')]], 'strap_log');
    assert.equal(r.reg('s1') & (1 << 11), 0, 'ecall from M cannot be delegated');
    assert.equal(r.reg('s1') & 0x3ff, 0x3ff);
  });

  test('mtvec vectored: exceptions go to BASE, interrupts to BASE + 4 * cause', () => {
    const r = runPass(`
    la t0, vec
    ori t0, t0, 1
    csrw mtvec, t0
    csrr s1, mtvec
    li s2, 0
    li s3, 0
    li s4, 0
    ecall                           # exception: slot 0
    li t0, ${1 << 1}
    csrs mie, t0
    csrs mip, t0                    # SSIP, not delegated: an M-level interrupt
    csrsi mstatus, ${MIE}
    nop
    li t0, ${1 << 3}
    csrs mie, t0
    li t0, 0x02000000
    li t1, 1
    sw t1, 0(t0)                    # CLINT msip: MSI
    nop
    nop
    j pass
    .align 6
vec:
    j slot0
    j slot1
    j bad_slot
    j slot3
    j bad_slot
    j bad_slot
    j bad_slot
    j bad_slot
    j bad_slot
    j bad_slot
    j bad_slot
    j bad_slot
slot0:
    addi s2, s2, 1
    csrr t0, mepc
    addi t0, t0, 4
    csrw mepc, t0
    mret
slot1:
    addi s3, s3, 1
    csrr s5, mcause
    li t0, ${1 << 1}
    csrc mip, t0
    mret
slot3:
    addi s4, s4, 1
    csrr s6, mcause
    li t0, 0x02000000
    sw zero, 0(t0)
    mret
bad_slot:
    li t5, 0xbad
    j fail
`);
    assert.equal(r.reg('s1'), r.sym('vec') + 1, 'mtvec keeps MODE = 1');
    assert.equal(r.reg('s2'), 1);
    assert.equal(r.reg('s3'), 1);
    assert.equal(r.reg('s4'), 1);
    assert.equal(r.reg('s5'), 0x8000_0001);
    assert.equal(r.reg('s6'), 0x8000_0003);
  });

  test('stvec vectored: a delegated interrupt goes to BASE + 4 * cause', () => {
    const r = runPriv(`
    li t0, ${1 << 1}
    csrw mideleg, t0                # SSI goes to S
    csrs mie, t0
    la t0, svec
    ori t0, t0, 1
    csrw stvec, t0
    li s3, 0
${enterMode('s', 's_code')}
s_code:
    csrsi sstatus, ${SIE}
    csrsi sip, ${1 << 1}            # S-mode raises its own software interrupt
    nop
    nop
    csrr s5, stvec
    j pass
    .align 6
svec:
    j sbad
    j sslot1
sbad:
    li t5, 0xbad
    j fail
sslot1:
    addi s3, s3, 1
    csrr s4, scause
    csrci sip, ${1 << 1}
    sret
`);
    assert.equal(r.reg('s3'), 1);
    assert.equal(r.reg('s4'), 0x8000_0001);
    assert.equal(r.reg('s5'), r.sym('svec') + 1);
    assert.equal(r.traps().length, 0);
  });

  test('mtvec direct: an interrupt goes to BASE, with the interrupt bit in mcause', () => {
    const r = runPass(`
    la t0, direct
    csrw mtvec, t0
    li s1, 0
    li t0, ${1 << 1}
    csrs mie, t0
    csrsi mstatus, ${MIE}
    csrs mip, t0                    # SSIP, not delegated: taken in M right after this
after_site:
    nop
    j pass
    .align 2
direct:
    addi s1, s1, 1
    csrr s2, mcause
    csrr s3, mepc
    li t0, ${1 << 1}
    csrc mip, t0
    mret
`);
    assert.equal(r.reg('s1'), 1);
    assert.equal(r.reg('s2'), 0x8000_0001);
    assert.equal(r.reg('s3'), r.sym('after_site'));
  });
});

describe('CSR access rules', () => {
  test('S and U touching more privileged CSRs: illegal instruction', () => {
    const r = runPriv(`
${enterMode('s', 's_code')}
s_code:
s_mstatus_site:
    csrr a0, mstatus
s_mscratch_site:
    csrw mscratch, a0
s_mepc_site:
    csrr a0, mepc
    csrr a0, sstatus                # fine
    csrw sscratch, a0               # fine
    li t0, ${SPP}
    csrc sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
u_sstatus_site:
    csrr a0, sstatus
u_sscratch_site:
    csrw sscratch, a0
u_satp_site:
    csrr a0, satp
u_mhartid_site:
    csrr a0, mhartid
`);
    assertTraps(r, [
      [ILLEGAL, 's_mstatus_site', 'insn'], [ILLEGAL, 's_mscratch_site', 'insn'], [ILLEGAL, 's_mepc_site', 'insn'],
      [ILLEGAL, 'u_sstatus_site', 'insn'], [ILLEGAL, 'u_sscratch_site', 'insn'], [ILLEGAL, 'u_satp_site', 'insn'],
      [ILLEGAL, 'u_mhartid_site', 'insn'],
    ]);
  });

  test('writing a read-only CSR is illegal, even with a zero value; reading it with x0 is fine', () => {
    const r = runPriv(`
    li t1, 0
w_mhartid_site:
    csrw mhartid, t1
w_cycle_site:
    csrw cycle, t1
s_mvendorid_site:
    csrsi mvendorid, 1
s_zero_rs1_site:
    csrrs a0, mimpid, t1            # rs1 is not x0: a write, although t1 = 0
c_instret_site:
    csrrc a0, instret, t1
unimp_site:
    unimp                           # csrrw zero, cycle, zero
    li s1, -1
    csrrs s1, mhartid, zero         # reads: fine
    csrrsi s2, marchid, 0
    csrrc s3, cycle, zero
    csrrci s4, time, 0
    csrr s5, misa
`);
    assertTraps(r, [
      [ILLEGAL, 'w_mhartid_site', 'insn'], [ILLEGAL, 'w_cycle_site', 'insn'], [ILLEGAL, 's_mvendorid_site', 'insn'],
      [ILLEGAL, 's_zero_rs1_site', 'insn'], [ILLEGAL, 'c_instret_site', 'insn'], [ILLEGAL, 'unimp_site', 'insn'],
    ]);
    assert.equal(r.reg('s1'), 0);
    assert.ok(r.reg('s3') > 0);
    // misa: MXL = 1 (32-bit) and the extensions A, D, F, I, M, S, U
    const ext = (c: string) => 1 << (c.charCodeAt(0) - 65);
    assert.equal(r.reg('s5'), ((1 << 30) | ext('A') | ext('D') | ext('F') | ext('I') | ext('M') | ext('S') | ext('U')) >>> 0);
  });

  test('mstatus.TVM traps satp and sfence.vma in S-mode only', () => {
    const r = runPriv(`
    li t0, ${TVM}
    csrs mstatus, t0
    csrr s1, satp                   # M: fine
    sfence.vma
${enterMode('s', 's_code')}
s_code:
satp_r_site:
    csrr a0, satp
satp_w_site:
    csrw satp, zero
sfence_site:
    sfence.vma
${gotoM('goto1_site', 'm_next')}
m_next:
    li t0, ${TVM}
    csrc mstatus, t0
${enterMode('s', 's_next')}
s_next:
    csrr s2, satp                   # now fine
    sfence.vma
`);
    assertTraps(r, [
      [ILLEGAL, 'satp_r_site', 'insn'], [ILLEGAL, 'satp_w_site', 'insn'], [ILLEGAL, 'sfence_site', 'insn'],
      [9, 'goto1_site', 0],
    ]);
  });

  test('mstatus.TW traps wfi in S, wfi in U is always illegal, TSR traps sret in S', () => {
    const r = runPriv(`
    li t0, ${1 << 1}
    csrw mideleg, t0                # SSI delegated and pending: wfi returns at once
    csrs mie, t0
    csrs mip, t0
    li t0, ${TW | TSR}
    csrs mstatus, t0
    wfi                             # M: fine
${enterMode('s', 's_code')}
s_code:                             # S with SIE = 0: the pending SSI is not taken
wfi_tw_site:
    wfi
sret_tsr_site:
    sret
${gotoM('goto1_site', 'm_next')}
m_next:
    li t0, ${TW | TSR}
    csrc mstatus, t0
${enterMode('s', 's_next')}
s_next:
    wfi                             # fine now
    li t0, ${SPP}
    csrs sstatus, t0
    la t0, 1f
    csrw sepc, t0
    sret                            # fine now: S to S
1:  csrci sip, ${1 << 1}            # nothing pending before entering U
    li t0, ${SPP}
    csrc sstatus, t0
    la t0, u_code
    csrw sepc, t0
    sret
u_code:
wfi_u_site:
    wfi
`);
    assertTraps(r, [
      [ILLEGAL, 'wfi_tw_site', 'insn'], [ILLEGAL, 'sret_tsr_site', 'insn'], [9, 'goto1_site', 0],
      [ILLEGAL, 'wfi_u_site', 'insn'],
    ]);
  });

  test('mcounteren and scounteren gate cycle, time, instret and hpmcounters below M', () => {
    const r = runPriv(`
    csrw mcounteren, zero
    csrw scounteren, zero
${enterMode('s', 's1')}
s1:
s_cycle_0:
    rdcycle a0
s_time_0:
    rdtime a0
s_instret_0:
    rdinstret a0
s_hpm_0:
    csrr a0, hpmcounter3
${gotoM('goto1', 'm2')}
m2:
    csrwi mcounteren, 1             # CY only
${enterMode('s', 's2')}
s2:
    rdcycle a0
s_time_1:
    rdtime a0
s_instret_1:
    rdinstret a0
    csrr s1, scounteren             # S reads and writes scounteren
    csrwi scounteren, 0
${gotoM('goto2', 'm3')}
m3:
    csrwi mcounteren, 0xf
${enterMode('s', 's3')}
s3:
    rdcycle a0
    rdtime a0
    rdinstret a0
    csrr a0, hpmcounter3
    rdcycleh a0
    li t0, ${SPP}
    csrc sstatus, t0
    la t0, u1
    csrw sepc, t0
    sret
u1:
u_cycle_0:
    rdcycle a0                      # scounteren = 0
${gotoM('goto3', 'm4')}
m4:
    csrwi scounteren, 7
    csrwi mcounteren, 5             # CY and IR, not TM
${enterMode('u', 'u2')}
u2:
    rdcycle a0
    rdinstret a0
u_time_1:
    rdtime a0                       # scounteren has TM, mcounteren does not
`);
    assertTraps(r, [
      [ILLEGAL, 's_cycle_0', 'insn'], [ILLEGAL, 's_time_0', 'insn'], [ILLEGAL, 's_instret_0', 'insn'],
      [ILLEGAL, 's_hpm_0', 'insn'], [9, 'goto1', 0],
      [ILLEGAL, 's_time_1', 'insn'], [ILLEGAL, 's_instret_1', 'insn'], [9, 'goto2', 0],
      [ILLEGAL, 'u_cycle_0', 'insn'], [8, 'goto3', 0],
      [ILLEGAL, 'u_time_1', 'insn'],
    ]);
  });

  test('mstatus.FS = Off makes FP instructions and fcsr illegal; a write makes FS Dirty', () => {
    const r = runPriv(`
    li t0, ${FS}
    csrc mstatus, t0
    la a0, fdata
fadd_site:
    fadd.s f0, f1, f2
flw_site:
    flw f0, 0(a0)
fsw_site:
    fsw f0, 0(a0)
fmv_site:
    fmv.w.x f0, zero
fcsr_site:
    csrr a1, fcsr
frflags_site:
    frflags a1
fsrmi_site:
    fsrmi 1
    li t0, ${1 << 13}               # FS = Initial
    csrs mstatus, t0
    csrr s1, mstatus
    flw f1, 0(a0)                   # 1.0
    fadd.s f2, f1, f1
    fmv.x.w s2, f2
    csrr s3, mstatus
    csrr s4, sstatus
    frflags s5
`, 'fdata: .word 0x3f800000');
    assertTraps(r, [
      [ILLEGAL, 'fadd_site', 'insn'], [ILLEGAL, 'flw_site', 'insn'], [ILLEGAL, 'fsw_site', 'insn'],
      [ILLEGAL, 'fmv_site', 'insn'], [ILLEGAL, 'fcsr_site', 'insn'], [ILLEGAL, 'frflags_site', 'insn'],
      [ILLEGAL, 'fsrmi_site', 'insn'],
    ]);
    assert.equal(r.reg('s1') & (FS | SD), 1 << 13);
    assert.equal(r.reg('s2'), 0x4000_0000);
    assert.equal((r.reg('s3') & (FS | SD)) >>> 0, (FS | SD) >>> 0);
    assert.equal((r.reg('s4') & (FS | SD)) >>> 0, (FS | SD) >>> 0, 'sstatus shows FS and SD');
  });
});

describe('misaligned fetch and MPRV', () => {
  test('a jump or taken branch to a misaligned target traps on the jump: cause 0, tval = target', () => {
    const r = runPriv(`
    li ra, 0x1234
jal_site:
    jal ra, target + 2
    la t0, target
    addi t0, t0, 2
jalr_site:
    jalr ra, 0(t0)
    addi t0, t0, 1                  # target + 3: jalr clears bit 0, still misaligned
jalr3_site:
    jalr ra, 0(t0)
beq_site:
    beq zero, zero, target + 2
bltu_site:
    bltu zero, t0, target - 2       # backwards
    bne zero, zero, target + 2      # not taken: no trap
    mv s1, ra
    j pass
    nop
target:
    li t5, 0xbad
    j fail
`);
    const t = r.sym('target');
    assertTraps(r, [
      [0, 'jal_site', t + 2], [0, 'jalr_site', t + 2], [0, 'jalr3_site', t + 2], [0, 'beq_site', t + 2],
      [0, 'bltu_site', t - 2],
    ]);
    assert.equal(r.reg('s1'), 0x1234, 'the faulting jumps did not write ra');
  });

  test("MPRV makes M-mode loads and stores use MPP's privilege and translation", () => {
    const maps = [
      ...identityMaps(true),
      { va: 0x4000_0000, pa: 'udata', flags: PTE.V | PTE.R | PTE.W | PTE.U | PTE.A | PTE.D },
      { va: 0x4000_1000, pa: 'sdata', flags: PTE.V | PTE.R | PTE.W | PTE.A | PTE.D },
    ];
    const r = runPriv(`
${enableSv32()}
    li a0, 0x40000000
    li a1, 0x40001000
    li t0, ${MPP}
    csrc mstatus, t0                # MPP = U
    li t0, ${MPRV}
    csrs mstatus, t0
    lw s1, 0(a0)                    # U page, through the page table
    li t1, 77
    sw t1, 4(a0)
u_fault_site:
    lw s2, 0(a1)                    # S page with U privilege: load page fault
    li t0, ${1 << 11}
    csrs mstatus, t0                # MPP = S
    lw s3, 0(a1)                    # S page: fine
s_fault_site:
    lw s4, 0(a0)                    # U page from S without SUM: fault (the U translation is gone)
    li t0, ${MPRV}
    csrc mstatus, t0
    li s5, 0x40000000
    la t0, 1f
    csrw mtvec, t0
m_fault_site:
    lw s5, 0(s5)                    # M without MPRV: no translation, nothing there
    li t5, 0xbad
    j fail
    .align 2
1:  csrr s6, mcause
`, `${pageTableData(maps)}
    .align 12
udata: .word 0x11111111, 0
    .align 12
sdata: .word 0x22222222, 0
`);
    assertTraps(r, [[13, 'u_fault_site', 0x4000_0000 + 0x1000], [13, 's_fault_site', 0x4000_0000]]);
    assert.equal(r.reg('s1'), 0x1111_1111);
    assert.equal(r.word('udata', 1), 77);
    assert.equal(r.reg('s3'), 0x2222_2222);
    assert.equal(r.reg('s6'), 5, 'load access fault');
  });
});

describe('counters', () => {
  test('minstret and mcycle count one per instruction; the user views agree', () => {
    const r = runPass(`
    csrr s1, minstret
    nop
    nop
    nop
    nop
    nop
    csrr s2, minstret
    csrr s3, mcycle
    nop
    nop
    nop
    csrr s4, mcycle
    rdinstret s5
    rdcycle s6
    csrr s7, minstret
    csrr s8, mcycle
    j pass
`);
    assert.equal(r.reg('s2') - r.reg('s1'), 6);
    assert.equal(r.reg('s4') - r.reg('s3'), 4);
    assert.equal(r.reg('s7') - r.reg('s5'), 2);
    assert.equal(r.reg('s8') - r.reg('s6'), 2);
  });

  test("a write to minstret or mcycle replaces that instruction's increment", () => {
    const r = runPass(`
    li t0, 1000
    csrw minstret, t0
    csrr s1, minstret               # 1000: the write is done instead of the increment
    nop
    csrr s2, minstret               # 1002
    li t0, 5000
    csrw mcycle, t0
    csrr s3, mcycle                 # 5000
    csrr s4, mcycle                 # 5001
    csrwi minstreth, 7
    csrr s5, minstreth
    csrwi mcycleh, 3
    csrr s6, mcycleh
    li t0, -1
    csrw minstret, t0
    csrw minstreth, zero
    nop
    csrr s7, minstret               # 0x1_0000_0000: the nop carried into the high half
    csrr s8, minstreth
    j pass
`);
    assert.equal(r.reg('s1'), 1000);
    assert.equal(r.reg('s2'), 1002);
    assert.equal(r.reg('s3'), 5000);
    assert.equal(r.reg('s4'), 5001);
    assert.equal(r.reg('s5'), 7);
    assert.equal(r.reg('s6'), 3);
    assert.equal(r.reg('s7'), 0);
    assert.equal(r.reg('s8'), 1);
  });

  test('instructions that trap do not retire', () => {
    const r = runPass(`
    la t0, 1f
    csrw mtvec, t0
    csrr s1, minstret
    ecall
    .align 2
1:  csrr s2, minstret               # the ecall did not count
    la t0, 2f
    csrw mtvec, t0
    csrr s3, minstret
    .word 0
    .align 2
2:  csrr s4, minstret
    j pass
`);
    assert.equal(r.reg('s2') - r.reg('s1'), 1, 'csrr s1 only');
    assert.equal(r.reg('s4') - r.reg('s3'), 1, 'csrr s3 only');
  });

  test('a program that keeps writing minstret still stops at the instruction limit', () => {
    const r = runAsm(program(`
1:  csrw minstret, zero
    j 1b
`), { maxInsns: 10_000 });
    assert.equal(r.exit?.kind, 'budget');
    assert.equal(r.instret, 10_000);
  });
});

describe('CSR write rules (WARL) and access faults', () => {
  test('sstatus, sie and sip writes from S reach only the S fields; mepc drops its low bits', () => {
    const r = runPriv(`
    li t0, ${(1 << 1) | (1 << 5)}   # SSI and STI delegated, SEI not
    csrw mideleg, t0
    li t0, ${1 << 13}
    csrs mstatus, t0                # FS = Initial, to see it change through sstatus
${enterMode('s', 's_code')}
s_code:
    li t0, -1
    csrw sstatus, t0
    csrr s1, sstatus
    csrci sstatus, ${SIE}           # so that the SSI raised below is not taken
    csrw sie, t0
    csrw sip, t0                    # only SSIP is writable, and only because it is delegated
${gotoM('goto1', 'm_next')}
m_next:
    csrr s2, mstatus
    csrr s3, mie
    csrr s4, mip
    li t0, -1
    csrw mepc, t0
    csrr s5, mepc
    csrw sepc, t0
    csrr s6, sepc
    li t0, ${2 << 11}
    csrw mstatus, t0                # MPP = 2 is reserved: MPP keeps its value
    csrr s7, mstatus
    li t0, ${1 << 11}
    csrw mstatus, t0
    li t0, ${2 << 11}
    csrw mstatus, t0
    csrr s8, mstatus
`);
    const sMask = SD | (1 << 19) | (1 << 18) | (3 << 15) | FS | SPP | SPIE | SIE; // SD MXR SUM XS FS SPP SPIE SIE
    assert.equal(r.reg('s1') & ~sMask, 0, 'sstatus shows only S fields');
    assert.equal(r.reg('s1') & (SIE | SPIE | SPP | (1 << 18) | (1 << 19) | FS), SIE | SPIE | SPP | (1 << 18) | (1 << 19) | FS);
    const s2 = r.reg('s2');
    assert.equal(s2 & (TVM | TW | TSR | MPRV), 0, 'M-only fields untouched by sstatus');
    assert.equal(r.reg('s3'), (1 << 1) | (1 << 5), 'sie reached only the delegated bits of mie');
    assert.equal(r.reg('s4') & 0xaaa, 1 << 1, 'sip set SSIP only');
    assert.equal(r.reg('s5'), 0xffff_fffc);
    assert.equal(r.reg('s6'), 0xffff_fffc);
    assert.equal(mppOf(r.reg('s7')), 0, 'MPP = 2 ignored (it was U)');
    assert.equal(mppOf(r.reg('s8')), 1, 'MPP = 2 ignored (it was S)');
  });

  test('mcountinhibit is consistent: a counter it claims to stop does not count', () => {
    const r = runPass(`
    li t0, 5                        # CY and IR
    csrw mcountinhibit, t0
    csrr s1, mcountinhibit
    csrr s2, minstret
    csrr s3, mcycle
    nop
    nop
    nop
    csrr s4, minstret
    csrr s5, mcycle
    csrw mcountinhibit, zero
    j pass
`);
    const inh = r.reg('s1');
    if ((inh & 4) !== 0) assert.equal(r.reg('s4'), r.reg('s2'), 'IR inhibited, yet minstret counted');
    else assert.equal(r.reg('s4') - r.reg('s2'), 5);
    if ((inh & 1) !== 0) assert.equal(r.reg('s5'), r.reg('s3'), 'CY inhibited, yet mcycle counted');
    else assert.equal(r.reg('s5') - r.reg('s3'), 5);
  });

  test('fetch, load, store, LR and AMO outside memory or on a device: access faults and misalignment', () => {
    const r = runPriv(`
    li s1, 0x50000000               # nothing there
    li s2, ${0x1000_0000}           # the UART
    jalr ra, 0(s1)                  # fetch from nowhere: resumes at ra
    jalr ra, 0(s2)                  # fetch from a device
load_site:
    lw a0, 0(s1)
store_site:
    sw a0, 4(s1)
dev_misaligned_site:
    lw a0, 1(s2)
lr_site:
    lr.w a0, (s2)
amo_site:
    amoadd.w a0, a0, (s2)
    lbu s3, 5(s2)                   # a byte read of LSR: fine
`);
    const at = (s: string) => (s === 'nowhere' ? 0x5000_0000 : s === 'uart' ? 0x1000_0000 : r.sym(s));
    assertTraps(r, [
      [1, 'nowhere', 0x5000_0000], [1, 'uart', 0x1000_0000],
      [5, 'load_site', 0x5000_0000], [7, 'store_site', 0x5000_0004], [4, 'dev_misaligned_site', 0x1000_0001],
      [5, 'lr_site', 0x1000_0000], [7, 'amo_site', 0x1000_0000],
    ], 'trap_log', at);
    assert.equal(r.reg('s3') & 0x60, 0x60, 'LSR: transmitter empty');
  });
});
