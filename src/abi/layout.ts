// The user address-space layout shared by the kernel, the toolchain (wasm2rv) and user/lib.
//
// Every user task is one WebAssembly module compiled by wasm2rv. Its linear memory sits at
// virtual address 0, so a wasm address *is* a virtual address and a memory access needs no base
// register. Everything else a task has lives above LINEAR_MAX + GUARD_SIZE. RV32 cannot reserve
// guard space for the whole 4 GiB range a wasm address can take, so compiled code checks that the
// base address is below LINEAR_MAX (one `bge base, zero`; none for a constant address or a base
// already checked in the basic block); everything from the end of memory up to LINEAR_MAX +
// GUARD_SIZE is unmapped, so an out-of-bounds access (base plus a static offset below
// GUARD_SIZE) page-faults at a known trap site (docs/WASM2RV.md "Memory model").

export const PAGE_SIZE = 4096;

/** Base of wasm linear memory (memory 0). */
export const LINEAR_BASE = 0x0000_0000;
/** Linear memory can never grow past this (2 GiB = 32768 wasm pages). */
export const LINEAR_MAX = 0x8000_0000;
/** Unmapped region after LINEAR_MAX; static offsets smaller than this need no extra check. */
export const GUARD_SIZE = 0x0100_0000;

/** Compiled code: execute-only pages (no load or store can reach them). */
export const CODE_BASE = 0xc000_0000;
/** Read-only data of the runtime (tables for call_indirect, trap-site map). */
export const RODATA_BASE = 0xc800_0000;
/** Mutable runtime data: wasm globals, the runtime's own variables. */
export const DATA_BASE = 0xd000_0000;
/** The native stack: grows down from STACK_TOP; STACK_SIZE bytes, guard page below. */
export const STACK_TOP = 0xe000_0000;
export const STACK_SIZE = 0x0010_0000;
/** Per-thread UTCB (message registers beyond the CPU registers), one page. */
export const UTCB_BASE = 0xf000_0000;
/** Highest user address + 1; the kernel reserves nothing in user address spaces above it. */
export const USER_TOP = 0xffff_f000;

/** Boot information page of the root task (src/abi/caps.ts BootInfo). */
export const BOOTINFO_BASE = 0xef00_0000;
/** Boot modules are mapped read-only into the root task from here, one after the other. */
export const MODULES_BASE = 0xe100_0000;
