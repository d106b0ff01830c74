// The boot plan and the start-information pages (docs/USERLAND.md "Boot plan", "Start
// information"): the layouts shared by the encoder (src/manifest/bootplan.ts, on the host), the
// root task (user/root) and the components that read their start information (memory manager,
// name service, supervisor, capability directory: user/lib/startinfo.ts). Only layouts live
// here; the encoder is in src/manifest.
//
// Everything is little-endian 32-bit words; every offset below is in WORDS. A table is (count,
// word offset from the start of the plan). A name is NAME_WORDS words: byte length, then up to
// NAME_MAX_BYTES bytes packed four to a word, first byte in the low bits, zero-padded.
//
// The plan is a capDL-like description computed on the host from the validated manifest and
// `expectedCapabilities` (src/manifest/caps.ts): the objects the root task must create or take
// from its boot capabilities, every grant (holder, place, object, rights, badge, slot), the IRQ
// bindings, the components (thread parameters) and the start order. The root task interprets it
// and decides nothing itself, so that caps.ts stays the single spec of who holds what.

/** "L4BP". */
export const BOOTPLAN_MAGIC = 0x4c344250;
export const BOOTPLAN_VERSION = 1;

/** A name: word 0 = byte length, then the bytes (component, service and object names). */
export const NAME_MAX_BYTES = 40;
export const NAME_WORDS = 1 + NAME_MAX_BYTES / 4;

/** Plan header (word offsets). */
export const PlanHdr = {
  Magic: 0,
  Version: 1,
  /** Size of the whole plan in bytes. */
  SizeBytes: 2,
  ComponentCount: 3,
  ComponentTable: 4,
  ObjectCount: 5,
  ObjectTable: 6,
  GrantCount: 7,
  GrantTable: 8,
  IrqBindCount: 9,
  IrqBindTable: 10,
  /** Component indices, in the order the root task starts them (root excluded). */
  StartOrderCount: 11,
  StartOrderTable: 12,
  /** Index of the root task's component record. */
  RootIndex: 13,
  /** mtime ticks per second (the sched budgets are already in ticks). */
  TimerHz: 14,
  Words: 16,
} as const;

/** Component record (one per manifest component, in manifest order; index = position). */
export const PlanComp = {
  /** PlanCompFlags. */
  Flags: 0,
  /** PlanRole. */
  Role: 1,
  /** Manifest position + 1. */
  Badge: 2,
  Priority: 3,
  /** Scheduling context, in mtime ticks. */
  BudgetTicks: 4,
  PeriodTicks: 5,
  MemoryPages: 6,
  /** Boot module holding its ELF (BootInfo module table index), or NONE for the root. */
  Module: 7,
  /** Object indices (NONE for the root task, whose objects the kernel made). */
  TaskObj: 8,
  ThreadObj: 9,
  SchedObj: 10,
  /** The StartInfo object mapped at START_INFO_BASE (a0 = START_INFO_BASE), or NONE (a0 = 0). */
  StartInfoObj: 11,
  /** Pages of stack the root maps below STACK_TOP when it loads the image (flag EagerLoad). */
  StackPages: 12,
  /** PlanRestart. */
  Restart: 13,
  MaxRestarts: 14,
  BackoffInitialMs: 15,
  BackoffMaxMs: 16,
  /** The component's name (NAME_WORDS words). */
  Name: 17,
  Words: 32,
} as const;

export const PlanCompFlags = {
  /** The root task loads the ELF itself (copies every PT_LOAD segment into fresh frames from
   *  its own memory, maps them, and maps StackPages of stack). Always set for the memory
   *  manager; for the others only when the memory manager does not page images in. */
  EagerLoad: 1,
} as const;

export const PlanRole = { Root: 0, MemoryManager: 1, NameService: 2, Supervisor: 3, Task: 4 } as const;
export const PlanRestart = { Never: 0, Always: 1, OnFailure: 2 } as const;

/** Object record: something the root task makes (or takes from BootInfo) and names. */
export const PlanObj = {
  /** PlanObjKind. */
  Kind: 0,
  /** Kind-specific parameters (below). */
  P0: 1,
  P1: 2,
  P2: 3,
  /** The object's name for the kernel's debug name (Method.DebugName); NAME_WORDS words. */
  Name: 4,
  Words: 16,
} as const;

/**
 * Object kinds and their parameters. "Slots" is how many consecutive capability slots the
 * object occupies, in the root and in every holder (a grant places all of them).
 */
export const PlanObjKind = {
  /** Retype a task. P0 = component. 1 slot. */
  Task: 1,
  /** Retype a thread. P0 = component. 1 slot. */
  Thread: 2,
  /** Retype a scheduling context. P0 = component. 1 slot. */
  SchedContext: 3,
  /** Retype an endpoint. 1 slot. */
  Endpoint: 4,
  /** Retype a notification. 1 slot. */
  Notification: 5,
  /** Memory quota: P0 = pages; retyped as untypeds of 1024 pages while at least 1024 remain,
   *  then one per set bit of the rest, largest first (P1 = how many). P1 slots. */
  Untyped: 6,
  /** The frames of boot module P0 (BootInfo module table: first frame slot, frame count);
   *  P1 = frame count, P2 = the module's size in bytes. P1 slots. */
  ImageFrames: 7,
  /** The boot I/O-memory capability of the device page at physical address P0. 1 slot. */
  IoMem: 8,
  /** The boot IRQ-handler capability of PLIC source P0. 1 slot. */
  IrqHandler: 9,
  /** The boot DMA-window capability of IOMMU device P0. 1 slot. */
  DmaWindow: 10,
  /** A frame at exactly physical address P0 of P1 pages (P1 a power of two, P0 aligned to
   *  it), retyped from the boot untyped that covers it. 1 slot. */
  DmaFrame: 11,
  /** A start-information page: one frame whose contents are the P1 words at plan word
   *  offset P0; mapped read-only at START_INFO_BASE in component P2. 1 slot. */
  StartInfo: 12,
} as const;

/** Grant record: put the holder's capability to an object. */
export const PlanGrant = {
  /** Component index of the holder. */
  Holder: 0,
  /** PlanPlace. */
  Place: 1,
  Obj: 2,
  /** Rights mask (src/abi/caps.ts Rights). */
  Rights: 3,
  /** 0 = unbadged (copy), else minted with this badge. */
  Badge: 4,
  /** First slot in the holder's capability space (cspace place only; 0 otherwise). */
  Slot: 5,
  Words: 6,
} as const;

/** Where a grant goes: a slot, or the kernel-held pager / exception-handler endpoint of the
 *  holder's thread (ThreadConfigure). */
export const PlanPlace = { Cspace: 0, Pager: 1, ExceptionHandler: 2 } as const;

/** IRQ binding: IrqSetNotification on the IrqHandler object with a copy of the notification
 *  object minted with Badge (1 << k for the component's irqs[k]). */
export const PlanIrqBind = {
  Irq: 0,
  Notification: 1,
  Badge: 2,
  Words: 3,
} as const;

/** "No such object / module / slot". */
export const PLAN_NONE = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Start information: the page mapped read-only at START_INFO_BASE in the memory manager, the
// name service, the supervisor and every component with a capability directory entry (StartCap);
// their thread starts with a0 = START_INFO_BASE (other components start with a0 = 0; a
// virtio-blk driver's page is its own layout, user/lib/io-proto.ts CFG_*). Word offsets. The
// root task copies the page verbatim from the plan; the encoder fills in the slot numbers, which
// are the slots of the holder's space.
// ---------------------------------------------------------------------------------------------

export const START_INFO_BASE = 0xef00_0000;
/** "L4SI". */
export const START_INFO_MAGIC = 0x4c345349;

export const StartHdr = {
  Magic: 0,
  /** PlanRole of the holder. */
  Role: 1,
  /** The holder's own badge. */
  Badge: 2,
  /** The slot of the endpoint it serves (pager / names / faults), capability R. */
  Endpoint: 3,
  /** Main table: entry count, entry size in words, word offset in this page. */
  EntryCount: 4,
  EntryWords: 5,
  EntryTable: 6,
  /** Second table (name service: the services), same three words. */
  Entry2Count: 7,
  Entry2Words: 8,
  Entry2Table: 9,
  /** mtime ticks per second. */
  TimerHz: 10,
  /** Component count of the plan (badges are 1..ComponentCount). */
  ComponentCount: 11,
  /** Badge of the supervisor, 0 if there is none (the memory manager lets it reset others). */
  SupervisorBadge: 12,
  /** The capability directory (StartCap entries; every StartHdr page has one, maybe empty):
   *  entry count, entry size in words, word offset in this page. */
  CapCount: 13,
  CapWords: 14,
  CapTable: 15,
  Words: 16,
} as const;

/**
 * Capability directory: the capabilities granted to the holder that it cannot find by
 * convention (CompSlot) because their slot depends on what else it holds (docs/MANIFEST.md
 * "Capabilities": slots from CompSlot.FirstFree in rule order). One entry per (kind, name); a
 * component looks its capability up by what it is for (user/lib/startinfo.ts). A component
 * whose grants include such a capability gets a start-information page (a StartHdr page, role
 * Task, no endpoint and no tables for a plain component) even if it would have none otherwise.
 */
export const StartCap = {
  /** StartCapKind: what the capability is for, and what Name names. */
  Kind: 0,
  /** Its (first) slot in the holder's capability space. */
  Slot: 1,
  /** Consecutive slots it occupies. */
  Slots: 2,
  /** Its rights (src/abi/caps.ts Rights). */
  Rights: 3,
  /** The name the holder looks it up by (NAME_WORDS words). */
  Name: 4,
  Words: 4 + NAME_WORDS,
} as const;

export const StartCapKind = {
  /** Notification(ring:C) RW of a component C that uses a ring-capable service (`"ring": true`):
   *  C waits on it for the ring responses and passes it to the provider when it connects. Name =
   *  the service; one entry per ring-capable service C uses (all name the same notification). */
  RingNotification: 1,
} as const;

/**
 * Memory manager: one entry per component it pages (every component but the root task,
 * itself included — for itself the task slot is CompSlot.Task and there is no image).
 */
export const MemClient = {
  Badge: 0,
  /** The memory quota: Untyped pieces in consecutive slots, largest first. */
  UntypedSlot: 1,
  UntypedCount: 2,
  QuotaPages: 3,
  /** Its task capability (W): map pages into it. */
  TaskSlot: 4,
  /** Its image: frames in consecutive slots (RX), holding the ELF file from byte 0; 0 = none. */
  ImageSlot: 5,
  ImageFrames: 6,
  ImageBytes: 7,
  /** MemClientFlags. */
  Flags: 8,
  /** When EagerLoaded: the root task mapped every PT_LOAD page, and StackPages below
   *  STACK_TOP, from its own memory (the quota is untouched); faults elsewhere are the
   *  memory manager's. */
  StackPages: 9,
  Name: 10,
  Words: 10 + NAME_WORDS,
} as const;

export const MemClientFlags = {
  /** The root task loaded the image (PlanCompFlags.EagerLoad). */
  EagerLoaded: 1,
  /** This entry is the memory manager itself. */
  Self: 2,
} as const;

/** Name service, table 1: one entry per (client, service) the manifest allows. */
export const NamesAllow = {
  /** Badge of the client (the badge its Endpoint(names) capability carries). */
  ClientBadge: 0,
  /** Slot of Endpoint(svc:S) W minted with the client's badge: reply with it. */
  EndpointSlot: 1,
  /** Index into table 2. */
  Service: 2,
  Words: 3,
} as const;

/** Name service, table 2: every service of the manifest. */
export const NamesService = {
  ProviderBadge: 0,
  Name: 1,
  Words: 1 + NAME_WORDS,
} as const;

/** Supervisor: one entry per component but the root task, the memory manager and the
 *  supervisor (src/manifest/caps.ts supervisedBy). Policy `never`: Thread(C) W only, to stop C
 *  when the memory manager refuses its page fault; TaskSlot, the backoff and the start
 *  registers are 0. */
export const SupClient = {
  Badge: 0,
  /** Thread(C) RW and Task(C) W (policy never: Thread(C) W, no task). */
  ThreadSlot: 1,
  TaskSlot: 2,
  /** PlanRestart. */
  Policy: 3,
  MaxRestarts: 4,
  BackoffInitialMs: 5,
  BackoffMaxMs: 6,
  /** Its start registers (ThreadSetRegs on a restart). */
  EntryPc: 7,
  StackTop: 8,
  StartArg: 9,
  Name: 10,
  Words: 10 + NAME_WORDS,
} as const;

// ---------------------------------------------------------------------------------------------
// Name service protocol (user/names): Call on CompSlot.Names.
//   Lookup:   label NamesProto.Lookup, MR0 = name length in bytes, MR1.. = the name packed
//             (like a plan name without its length word). The caller sets Utcb.RecvSlot to an
//             empty slot first. Reply MR0 = NamesStatus; on Ok one capability arrives: the
//             service endpoint (W, badged with the caller's badge), and MR1 = 1 if the
//             provider has registered, else 0 (calls then wait until it receives).
//   Register: label NamesProto.Register, name as above; only the provider may. Reply MR0 =
//             NamesStatus.
// ---------------------------------------------------------------------------------------------

export const NamesProto = {
  Lookup: 1,
  Register: 2,
} as const;

export const NamesStatus = {
  Ok: 0,
  /** The service exists but the manifest does not let this client use it. */
  NotAllowed: 1,
  /** No component provides a service of this name. */
  NoSuchService: 2,
  /** Malformed request (unknown label, name too long). */
  BadRequest: 3,
  /** Register from a component that does not provide the service. */
  NotProvider: 4,
} as const;
