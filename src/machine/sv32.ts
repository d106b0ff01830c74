// Sv32 address translation (RISC-V privileged spec §10.3 "Sv32: Page-Based 32-bit Virtual-Memory
// Systems", algorithm of §10.3.2).
//
// The walk reads page-table entries from DRAM only (a PTE anywhere else is an access fault) and
// updates the A and D bits in hardware (the Svadu behaviour), so software never sees a fault
// just for a clear A or D bit. The result is the physical address of the byte at `va`; the hart
// caches whole pages of it in its software TLB.

import type { Dram } from './memory.ts';
import { PRIV_S, PRIV_U } from './csr.ts';

export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
export const PTE_U = 1 << 4;
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;

export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;
export type Access = typeof ACCESS_READ | typeof ACCESS_WRITE | typeof ACCESS_EXEC;

/** Why a walk failed: a page fault, or an access fault (PTE or target outside physical memory). */
export const WALK_PAGE_FAULT = -1;
export const WALK_ACCESS_FAULT = -2;

export interface WalkContext {
  dram: Dram;
  /** Root page-table physical page number (satp.PPN). */
  rootPpn: number;
  /** Effective privilege of the access (U or S; M never translates). */
  priv: number;
  sum: boolean;
  mxr: boolean;
}

/**
 * Translate `va` for `access`. Returns the physical address (0 .. 2^34-1, as a double) or
 * WALK_PAGE_FAULT / WALK_ACCESS_FAULT. On success the leaf PTE's A bit (and D bit for a write)
 * is set in memory, so a TLB entry filled by a write walk may be reused for writes, and one
 * filled by a read walk must not be (its D bit may still be clear).
 */
export function sv32Walk(ctx: WalkContext, va: number, access: Access): number {
  const dram = ctx.dram;
  let a = ctx.rootPpn * 4096;
  let level = 1;
  let pteAddr = 0;
  let pte = 0;
  for (;;) {
    const vpnPart = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    pteAddr = a + vpnPart * 4;
    // Step 2: the PTE must lie in physical memory (PMP is not enforced, see docs/MACHINE.md).
    if (pteAddr >= 0x1_0000_0000 || !dram.contains(pteAddr, 4)) return WALK_ACCESS_FAULT;
    pte = dram.readU32(pteAddr);
    // Step 3: invalid, or the reserved W-without-R encoding.
    if ((pte & PTE_V) === 0 || ((pte & PTE_R) === 0 && (pte & PTE_W) !== 0)) return WALK_PAGE_FAULT;
    // Step 4: a leaf has R or X set; otherwise descend.
    if ((pte & (PTE_R | PTE_X)) !== 0) break;
    if (level === 0) return WALK_PAGE_FAULT;
    level = 0;
    a = (pte >>> 10) * 4096;
  }
  // Step 5: permission checks for the access type and privilege.
  if (access === ACCESS_EXEC) {
    if ((pte & PTE_X) === 0) return WALK_PAGE_FAULT;
  } else if (access === ACCESS_READ) {
    if ((pte & PTE_R) === 0 && !(ctx.mxr && (pte & PTE_X) !== 0)) return WALK_PAGE_FAULT;
  } else if ((pte & PTE_W) === 0) {
    return WALK_PAGE_FAULT;
  }
  if (ctx.priv === PRIV_U) {
    if ((pte & PTE_U) === 0) return WALK_PAGE_FAULT;
  } else if (ctx.priv === PRIV_S && (pte & PTE_U) !== 0) {
    // S-mode may touch U pages only with SUM, and may never execute them (§4.1.1.2).
    if (access === ACCESS_EXEC || !ctx.sum) return WALK_PAGE_FAULT;
  }
  // Step 6: a superpage must be aligned (PPN[0] == 0).
  const ppn = pte >>> 10;
  if (level === 1 && (ppn & 0x3ff) !== 0) return WALK_PAGE_FAULT;
  // Step 7: hardware A/D update.
  let newPte = pte | PTE_A;
  if (access === ACCESS_WRITE) newPte |= PTE_D;
  if (newPte !== pte) dram.writeU32(pteAddr, newPte);
  // Step 8: the physical address; a superpage maps VPN[0] and the offset straight through.
  if (level === 1) return (ppn >>> 10) * 0x40_0000 + (va & 0x3f_ffff);
  return ppn * 4096 + (va & 0xfff);
}
