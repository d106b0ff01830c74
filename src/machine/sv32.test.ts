// Sv32 address translation, as programs run on the board with page tables they carry in .data:
// two-level walks, superpages, hardware A/D updates, the U/S/SUM/MXR permission rules, fault
// causes and tval, TLB flushing by sfence.vma and satp writes, and access faults.
// (RISC-V privileged spec §10.3 "Sv32: Page-Based 32-bit Virtual-Memory Systems", §4.1.1 for
// SUM and MXR, §3.1.16 for tval.)

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PTE, assertTraps, enableSv32, enterMode, identityMaps, pageTableData, runPass, trapLogData,
  trapRecorder, type Mapping,
} from './test-support.ts';

const { V, R, W, X, U, A, D } = PTE;
const SUM = 1 << 18;
const MXR = 1 << 19;

const LOAD_PF = 13;
const STORE_PF = 15;
const FETCH_PF = 12;

/** Four data pages with recognisable first words, and two small code pages. */
const PAGES = `
    .align 12
page_a: .word 0xaaaa0000, 0xaaaa0001, 0xaaaa0002, 0xaaaa0003
    .space 4080
page_b: .word 0xbbbb0000, 0xbbbb0001, 0xbbbb0002, 0xbbbb0003
    .space 4080
page_c: .word 0xcccc0000, 0xcccc0001
    .space 4088
page_d: .word 0xdddd0000, 0xdddd0001
    .space 4088
`;
const CODE_PAGES = `
    .align 12
xcode1:
    li a0, 0x55
    ret
    .align 12
xcode2:
    li a0, 0x66
    ret
    .align 12
`;

/**
 * Run an S-mode `body` under Sv32 with `maps` (plus the identity superpages, S-only), every
 * trap going to the M-mode recorder. `code` is extra text (after the body), `data` extra data.
 */
function runPaged(maps: Mapping[], body: string, opts: { code?: string; data?: string; extra?: [number, number][]; user?: boolean } = {}) {
  return runPass(`
    la t0, m_handler
    csrw mtvec, t0
${enableSv32()}
${enterMode('s', 's_code')}
s_code:
${body}
    j pass
${trapRecorder('m', 'm_handler', 'trap_log', { gotoM: true })}
${CODE_PAGES}
${opts.code ?? ''}
`, `${pageTableData([...identityMaps(opts.user ?? false), ...maps], 'pt_root', opts.extra)}
${PAGES}
${trapLogData('trap_log')}
${opts.data ?? ''}
`);
}

const rw = V | R | W | A | D;

describe('Sv32 translation', () => {
  test('a two-level walk maps 4 KiB pages to their frames, aliases included', () => {
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_a', flags: rw },
      { va: 0x4000_1000, pa: 'page_b', flags: V | R | A },
      { va: 0x4000_3000, pa: 'page_a', flags: rw },
      { va: 0x4000_4000, pa: 'xcode1', flags: V | X | A },
    ], `
    li s1, 0x40000000
    lw s2, 0(s1)
    li s3, 0x40001000
    lw s4, 12(s3)
    li t0, 0x1234
    sw t0, 8(s1)
    li s5, 0x40003000
    lw s6, 8(s5)                    # the same frame through another page
    li t0, 0x40004000
    jalr ra, 0(t0)                  # code through a 4 KiB mapping
    mv s7, a0
    lw a0, 0x7fc(s3)                # 0x400017fc: the same page, fine
    li t0, 0x40002000
invalid_site:
    lw a0, 0(t0)                    # no PTE in the leaf table
    li t0, 0x50000000
no_root_site:
    lw a0, 0(t0)                    # no PTE in the root table
`);
    assert.equal(r.reg('s2'), 0xaaaa_0000);
    assert.equal(r.reg('s4'), 0xbbbb_0003);
    assert.equal(r.reg('s6'), 0x1234);
    assert.equal(r.word('page_a', 2), 0x1234);
    assert.equal(r.reg('s7'), 0x55);
    assertTraps(r, [[LOAD_PF, 'invalid_site', 0x4000_2000], [LOAD_PF, 'no_root_site', 0x5000_0000]]);
  });

  test('4 MiB superpages map VPN[0] and the offset straight through; a misaligned one faults', () => {
    const misaligned = ((0x80001 << 10) | V | R | X | A) >>> 0; // PPN[0] != 0
    const r = runPaged([
      { va: 0xc000_0000, pa: 0x8000_0000, flags: rw | X, superpage: true },
    ], `
    la s1, page_b
    li t0, 0x40000000
    add s1, s1, t0                  # page_b's alias at 0xc0000000 + offset
    lw s2, 4(s1)
    li t0, 0x4321
    sw t0, 8(s1)
    la t0, xcode2
    li t1, 0x40000000
    add t0, t0, t1
    jalr ra, 0(t0)                  # execute through the superpage
    mv s3, a0
    li t0, 0xc0400000
misaligned_load_site:
    lw a0, 0(t0)
    li t0, 0xc0400010
    jalr ra, 0(t0)                  # fetch fault at 0xc0400010
`, { extra: [[0xc04 >> 2, misaligned]] });
    assert.equal(r.reg('s2'), 0xbbbb_0001);
    assert.equal(r.word('page_b', 2), 0x4321);
    assert.equal(r.reg('s3'), 0x66);
    assertTraps(r, [[LOAD_PF, 'misaligned_load_site', 0xc040_0000], [FETCH_PF, 'fetch_va', 0xc040_0010]],
      'trap_log', (s) => (s === 'fetch_va' ? 0xc040_0010 : r.sym(s)));
  });

  test('the walk sets A on any access and D on a write, in the PTE in memory', () => {
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_a', flags: V | R | W, name: 'pte_read' },
      { va: 0x4000_1000, pa: 'page_b', flags: V | R | W, name: 'pte_write' },
      { va: 0x4000_2000, pa: 'page_c', flags: V | R | W, name: 'pte_untouched' },
      { va: 0x4000_3000, pa: 'page_d', flags: V | R | W, name: 'pte_read_then_write' },
      { va: 0x4000_4000, pa: 'xcode1', flags: V | X, name: 'pte_exec' },
      { va: 0x4000_5000, pa: 'page_c', flags: V | R, name: 'pte_faulting_store' },
      { va: 0x4000_6000, pa: 'page_c', flags: V | R | W | A, name: 'pte_a_only' },
    ], `
    li t0, 0x40000000
    lw a0, 0(t0)
    lw a0, 4(t0)
    li t0, 0x40001000
    sw zero, 0(t0)
    li t0, 0x40003000
    lw a0, 0(t0)
    sw a0, 4(t0)                    # after a read filled the TLB: the write still sets D
    li t0, 0x40004000
    jalr ra, 0(t0)
    li t0, 0x40005000
ro_store_site:
    sw zero, 0(t0)
    li t0, 0x40006000
    sw zero, 8(t0)
`);
    const flags = (name: string) => r.word(name) & 0xff;
    assert.equal(flags('pte_read'), V | R | W | A);
    assert.equal(flags('pte_write'), V | R | W | A | D);
    assert.equal(flags('pte_untouched'), V | R | W);
    assert.equal(flags('pte_read_then_write'), V | R | W | A | D);
    assert.equal(flags('pte_exec'), V | X | A);
    assert.equal(flags('pte_faulting_store'), V | R, 'a faulting access sets neither bit');
    assert.equal(flags('pte_a_only'), V | R | W | A | D);
    assert.equal(r.word('pte_read') >>> 10, r.sym('page_a') >>> 12, 'the PPN is untouched');
    assertTraps(r, [[STORE_PF, 'ro_store_site', 0x4000_5000]]);
  });
});

describe('Sv32 permissions', () => {
  test('S-mode: SUM for U pages, never executing them, MXR, read-only, execute-only and W-only pages', () => {
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_a', flags: rw | U },
      { va: 0x4000_1000, pa: 'page_b', flags: V | R | A },
      { va: 0x4000_2000, pa: 'xcode1', flags: V | X | A },
      { va: 0x4000_3000, pa: 'page_c', flags: V | W | A | D }, // W without R: reserved
      { va: 0x4000_4000, pa: 'xcode2', flags: V | R | X | U | A },
      { va: 0x4000_5000, pa: 'page_d', flags: rw },
    ], `
    li s1, 0x40000000
s_u_load_site:
    lw a0, 0(s1)
s_u_store_site:
    sw a0, 0(s1)
    li t0, ${SUM}
    csrs sstatus, t0
    lw s2, 4(s1)                    # with SUM: fine
    li t0, 0x77
    sw t0, 8(s1)
    li t0, 0x40004000
    jalr ra, 0(t0)                  # never: S does not execute U pages, SUM or not
    li t0, ${SUM}
    csrc sstatus, t0
    li s3, 0x40001000
ro_store_site:
    sw a0, 0(s3)
    lw s4, 0(s3)
    li s5, 0x40002000
    jalr ra, 0(s5)                  # execute-only: runs
    mv s6, a0
xo_load_site:
    lw a1, 0(s5)
    li t0, ${MXR}
    csrs sstatus, t0
    lw s7, 0(s5)                    # MXR: X makes it readable
mxr_store_site:
    sw a1, 0(s5)                    # but not writable
    li t0, ${MXR}
    csrc sstatus, t0
    li s8, 0x40003000
wonly_load_site:
    lw a1, 0(s8)
wonly_store_site:
    sw a1, 0(s8)
    li t0, 0x40005000
    jalr ra, 0(t0)                  # not executable
`);
    assert.equal(r.reg('s2'), 0xaaaa_0001);
    assert.equal(r.word('page_a', 2), 0x77);
    assert.equal(r.reg('s4'), 0xbbbb_0000);
    assert.equal(r.reg('s6'), 0x55);
    assert.equal(r.reg('s7'), r.word('xcode1'));
    const at = (s: string) => (s === 'u_exec' ? 0x4000_4000 : s === 'nx_exec' ? 0x4000_5000 : r.sym(s));
    assertTraps(r, [
      [LOAD_PF, 's_u_load_site', 0x4000_0000], [STORE_PF, 's_u_store_site', 0x4000_0000],
      [FETCH_PF, 'u_exec', 0x4000_4000],
      [STORE_PF, 'ro_store_site', 0x4000_1000],
      [LOAD_PF, 'xo_load_site', 0x4000_2000], [STORE_PF, 'mxr_store_site', 0x4000_2000],
      [LOAD_PF, 'wonly_load_site', 0x4000_3000], [STORE_PF, 'wonly_store_site', 0x4000_3000],
      [FETCH_PF, 'nx_exec', 0x4000_5000],
    ], 'trap_log', at);
  });

  test('U-mode: only U pages, and only with their R/W/X', () => {
    const UCODE = 0x4001_0000;
    const r = runPaged([
      { va: UCODE, pa: 'ucode', flags: V | R | X | U | A },
      { va: 0x4000_0000, pa: 'page_a', flags: rw | U },
      { va: 0x4000_1000, pa: 'page_b', flags: rw },
      { va: 0x4000_2000, pa: 'page_c', flags: V | R | U | A },
      { va: 0x4000_3000, pa: 'xcode1', flags: V | R | X | A },
    ], `
    li a7, 1
    la a6, m_setup
s_ecall_site:
    ecall                           # S -> M (goto-M), to set up the U entry
m_setup:
    li a7, 1
    la a6, m_done
${enterMode('u', UCODE)}
m_done:
    j pass
`, {
      code: `
    .align 12
ucode:
    li s1, 0x40000000
    lw s2, 0(s1)
    li t0, 0x99
    sw t0, 12(s1)
    li s3, 0x40001000
u_s_load_site:
    lw a0, 0(s3)
u_s_store_site:
    sw a0, 0(s3)
    li s4, 0x40002000
    lw s5, 4(s4)
u_ro_store_site:
    sw a0, 0(s4)
    li t0, 0x40003000
    jalr ra, 0(t0)                  # S code page
    li s6, 0x80000000
u_dram_site:
    lw a0, 0(s6)                    # the S-only identity superpage
u_ecall_site:
    ecall                           # goto-M: m_done
`,
    });
    assert.equal(r.reg('s2'), 0xaaaa_0000);
    assert.equal(r.word('page_a', 3), 0x99);
    assert.equal(r.reg('s5'), 0xcccc_0001);
    const at = (s: string) =>
      s === 's_ecall_site' ? r.sym(s) : s === 'u_exec_s' ? 0x4000_3000 : r.sym(s) - r.sym('ucode') + UCODE;
    assertTraps(r, [
      [9, 's_ecall_site', 0],
      [LOAD_PF, 'u_s_load_site', 0x4000_1000], [STORE_PF, 'u_s_store_site', 0x4000_1000],
      [STORE_PF, 'u_ro_store_site', 0x4000_2000], [FETCH_PF, 'u_exec_s', 0x4000_3000],
      [LOAD_PF, 'u_dram_site', 0x8000_0000], [8, 'u_ecall_site', 0],
    ], 'trap_log', at);
  });

  test('LR, SC and AMOs under translation: write permission needed for SC and AMOs, D set', () => {
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_a', flags: V | R | A, name: 'pte_ro' },
      { va: 0x4000_1000, pa: 'page_b', flags: V | R | W | A, name: 'pte_rw' },
    ], `
    li s1, 0x40000000
    lr.w s2, (s1)                   # reading a read-only page: fine
    li t0, 1
sc_ro_site:
    sc.w s3, t0, (s1)
amo_ro_site:
    amoadd.w s4, t0, (s1)
    li s5, 0x40001000
    addi t1, s5, 4
    lr.w s6, (t1)
    li t0, 7
    sc.w s7, t0, (s5)               # fails (the reservation is on +4), without a fault
    amoadd.w s8, t0, (s5)
`);
    assert.equal(r.reg('s2'), 0xaaaa_0000);
    assert.equal(r.reg('s6'), 0xbbbb_0001);
    assert.notEqual(r.reg('s7'), 0);
    assert.equal(r.reg('s8'), 0xbbbb_0000);
    assert.equal(r.word('page_b', 0), 0xbbbb_0007);
    assert.equal(r.word('page_a', 0), 0xaaaa_0000);
    assert.equal(r.word('pte_rw') & D, D, 'the AMO set D');
    assert.equal(r.word('pte_ro') & D, 0);
    assertTraps(r, [[STORE_PF, 'sc_ro_site', 0x4000_0000], [STORE_PF, 'amo_ro_site', 0x4000_0000]]);
  });

  test('page faults delegated to S report scause and stval there', () => {
    const r = runPass(`
    la t0, m_handler
    csrw mtvec, t0
    la t0, s_handler
    csrw stvec, t0
    li t0, ${(1 << 12) | (1 << 13) | (1 << 15)}
    csrw medeleg, t0
${enableSv32()}
${enterMode('s', 's_code')}
s_code:
    li t0, 0x40001000
load_site:
    lw a0, 4(t0)
store_site:
    sh a0, 6(t0)
    li t0, 0x40000000
    lw s1, 0(t0)
    j pass
${trapRecorder('m', 'm_handler', 'trap_log')}
${trapRecorder('s', 's_handler', 'strap_log')}
`, `${pageTableData([...identityMaps(false), { va: 0x4000_0000, pa: 'page_a', flags: rw }])}
${PAGES}
${trapLogData('trap_log')}
${trapLogData('strap_log')}
`);
    assertTraps(r, [[LOAD_PF, 'load_site', 0x4000_1004], [STORE_PF, 'store_site', 0x4000_1006]], 'strap_log');
    assert.equal(r.traps().length, 0, 'M saw nothing');
    assert.equal(r.reg('s1'), 0xaaaa_0000);
  });

  test('misaligned accesses across two pages use both frames; a fault on the second is precise', () => {
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_c', flags: rw },
      { va: 0x4000_1000, pa: 'page_a', flags: rw }, // frames in the opposite order
      { va: 0x4000_3000, pa: 'page_d', flags: rw },
    ], `
    la t0, page_c                   # physical (identity) view: the last bytes of page_c
    li t1, 0xffe
    add t0, t0, t1
    li t1, 0xbeef
    sh t1, 0(t0)
    li s1, 0x40000fff
    lw s2, 0(s1)                    # page_c[fff], page_a[0..2]
    li t0, 0x11223344
    sw t0, -1(s1)                   # 0x40000ffe: two bytes in each frame
    li s3, 0x40003ffd
    li t0, -1
cross_store_site:
    sw t0, 0(s3)                    # 0x40004000 is unmapped: nothing is written
cross_load_site:
    lh a0, 2(s3)
`);
    assert.equal(r.reg('s2'), 0xaa00_00be);
    assert.equal(r.word('page_c', 1023), 0x3344_0000);
    assert.equal(r.word('page_a', 0), 0xaaaa_1122);
    assert.equal(r.word('page_d', 1023), 0, 'the faulting store wrote nothing');
    assertTraps(r, [[STORE_PF, 'cross_store_site', 0x4000_4000], [LOAD_PF, 'cross_load_site', 0x4000_4000]]);
  });
});

describe('Sv32 TLB and access faults', () => {
  test('a changed PTE is not seen until sfence.vma or a satp write; the same for code', () => {
    const ptePage = (label: string) => `
    la t1, ${label}
    srli t1, t1, 12
    slli t1, t1, 10
    ori t1, t1, ${rw | X}
    la t0, pte_v
    sw t1, 0(t0)`;
    const r = runPaged([
      { va: 0x4000_0000, pa: 'page_a', flags: rw | X, name: 'pte_v' },
    ], `
    li s1, 0x40000000
    lw s2, 0(s1)                    # page_a, now in the TLB
${ptePage('page_b')}
    lw s3, 0(s1)                    # still page_a
    sfence.vma
    lw s4, 0(s1)                    # page_b
${ptePage('page_a')}
    lw s5, 0(s1)                    # still page_b
    csrr t0, satp
    csrw satp, t0                   # a satp write flushes too
    lw s6, 0(s1)                    # page_a
${ptePage('page_c')}
    sfence.vma s1, zero             # the address form
    lw s7, 0(s1)                    # page_c
${ptePage('xcode1')}
    sfence.vma
    jalr ra, 0(s1)
    mv s8, a0                       # 0x55
${ptePage('xcode2')}
    jalr ra, 0(s1)
    mv s9, a0                       # still 0x55: the fetch translation is cached
    sfence.vma
    jalr ra, 0(s1)
    mv s10, a0                      # 0x66
`);
    assert.equal(r.reg('s2'), 0xaaaa_0000);
    assert.equal(r.reg('s3'), 0xaaaa_0000);
    assert.equal(r.reg('s4'), 0xbbbb_0000);
    assert.equal(r.reg('s5'), 0xbbbb_0000);
    assert.equal(r.reg('s6'), 0xaaaa_0000);
    assert.equal(r.reg('s7'), 0xcccc_0000);
    assert.equal(r.reg('s8'), 0x55);
    assert.equal(r.reg('s9'), 0x55);
    assert.equal(r.reg('s10'), 0x66);
  });

  test('a PTE outside DRAM or a leaf naming no device gives an access fault, not a page fault', () => {
    const outside = ((0x7_0000 << 10) | V) >>> 0; // next level at 0x7000_0000: no memory there
    const r = runPaged([
      { va: 0x4000_0000, pa: 0x5000_0000, flags: rw | X }, // nothing at 0x5000_0000
    ], `
    li s1, 0x40400000
pte_load_site:
    lw a0, 0(s1)
pte_store_site:
    sw a0, 0(s1)
    jalr ra, 0(s1)
    li s2, 0x40000000
bus_load_site:
    lw a0, 8(s2)
bus_store_site:
    sw a0, 8(s2)
    jalr ra, 0(s2)
`, { extra: [[0x4040_0000 >>> 22, outside]] });
    const at = (s: string) => (s === 'pte_exec' ? 0x4040_0000 : s === 'bus_exec' ? 0x4000_0000 : r.sym(s));
    assertTraps(r, [
      [5, 'pte_load_site', 0x4040_0000], [7, 'pte_store_site', 0x4040_0000], [1, 'pte_exec', 0x4040_0000],
      [5, 'bus_load_site', 0x4000_0008], [7, 'bus_store_site', 0x4000_0008], [1, 'bus_exec', 0x4000_0000],
    ], 'trap_log', at);
  });

  test('M-mode ignores satp; S-mode with satp.MODE = Bare uses physical addresses', () => {
    const r = runPass(`
    la t0, pt_root
    srli t0, t0, 12
    li t1, 0x80000000
    or t0, t0, t1
    csrw satp, t0                   # the root table maps nothing at all
    la t0, page_a
    lw s1, 0(t0)                    # M: untranslated
    csrw satp, zero
${enterMode('s', 's_code')}
s_code:
    la t0, page_b
    lw s2, 0(t0)                    # S, Bare: untranslated
    j pass
`, `${pageTableData([])}\n${PAGES}`);
    assert.equal(r.reg('s1'), 0xaaaa_0000);
    assert.equal(r.reg('s2'), 0xbbbb_0000);
  });
});
