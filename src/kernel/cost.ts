// The kernel's cost model: virtual cycles charged for its own work (docs/KERNEL.md "Cost
// model"). The kernel runs in TypeScript, so its work retires no instructions; each entry
// adds these cycles to `board.clock.cycles` so that virtual time reflects kernel work. The
// numbers approximate the instruction counts of a C kernel on a simple in-order core
// (seL4's IPC fast path is ~200-300 instructions on RISC-V).

/** Trap entry + exit (register save/restore, dispatch). */
export const COST_TRAP = 60;
/** IPC fast path, call or reply-receive with a direct switch, excluding the trap. */
export const COST_IPC_FAST = 120;
/** IPC slow path (queueing, capability transfer, scheduling), excluding the trap. */
export const COST_IPC_SLOW = 300;
/** Per message register copied through the UTCB. */
export const COST_MR_WORD = 2;
/** Per capability transferred. */
export const COST_CAP_XFER = 80;
/** Per page mapped, granted or unmapped (mapping database + page-table write). */
export const COST_MAP_PAGE = 100;
/** Address-space switch (satp write, TLB flush). */
export const COST_ASID_SWITCH = 40;
/** Scheduler decision (ready-queue scan). */
export const COST_SCHEDULE = 80;
/** Capability-space operation (copy, mint, move, delete), per capability. */
export const COST_CAP_OP = 100;
/** Object creation, per object, plus per page zeroed. */
export const COST_RETYPE = 200;
export const COST_ZERO_PAGE = 512;
/** Fault delivery (building the fault message). */
export const COST_FAULT = 150;
/** Interrupt entry: PLIC claim and notification signal. */
export const COST_IRQ = 150;
/** Any other invocation (thread control, scheduling context, IRQ, DMA). */
export const COST_INVOKE = 150;
