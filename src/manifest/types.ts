// The validated boot manifest (docs/MANIFEST.md). parseManifest (validate.ts) is the only way
// to get one: every cross-reference in it resolves, every range holds, and the shape of each
// part follows its kind, so code that consumes a Manifest checks nothing again.
//
// Where a field's shape depends on a kind the type is a discriminated union, so that an
// impossible state does not type-check: the root task has no grants, a restart policy has a
// backoff exactly when it restarts, only a virtio device has a slot and DMA windows, and the
// components nothing supervises (root, memory manager, supervisor) can only be `never` restarted.

/** Manifest format version; the only one so far. */
export const MANIFEST_VERSION = 1;

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  description: string | null;
  /** In manifest order; exactly one root, one memory manager, at most one supervisor and one
   *  name service (see Role). */
  components: readonly Component[];
}

/**
 * What a component is to the rest of the system:
 * - root: the first task, started by the kernel; builds every other component from the
 *   manifest and holds the originals of all their capabilities. Exactly one.
 * - memory-manager: pages every other component, within its memory quota. Exactly one.
 * - name-service: hands each component the service endpoints the manifest lets it use.
 *   Required when any component uses a service.
 * - supervisor: receives the faults of the components with a restart policy and restarts
 *   them. Required when any component has a restart policy other than `never`.
 * - task: anything else (drivers, servers, programs).
 */
export type Role = 'root' | 'memory-manager' | 'name-service' | 'supervisor' | 'task';

export type Component = RootComponent | UnsupervisedComponent | SupervisableComponent;

interface ComponentCommon {
  /** Unique; lower-case letters, digits and '-'. */
  name: string;
  description: string | null;
  image: Image;
  /** 0..255, higher runs first. */
  priority: number;
  sched: Sched;
  /** Memory quota in 4 KiB pages, > 0. */
  memoryPages: number;
}

/** The root task: it hands out every grant, so it has none itself, and nothing restarts it. */
export interface RootComponent extends ComponentCommon {
  role: 'root';
}

export interface Grants {
  devices: readonly Device[];
  /** PLIC sources; each belongs to a device in `devices`. */
  irqs: readonly number[];
  provides: readonly Service[];
  /** Names of services provided by other components that allow this one. */
  uses: readonly string[];
  /** Names of components that must be started before this one. */
  startAfter: readonly string[];
  /** The virtio-net driver whose interrupts this component forwards to the driver's endpoint
   *  (docs/DRIVERS.md "Network": the driver waits on its endpoint, an L4 thread on one object),
   *  or null. An IRQ forwarder holds nothing else. */
  forwardsIrqsOf: string | null;
}

/** The memory manager and the supervisor: nothing could restart them. */
export interface UnsupervisedComponent extends ComponentCommon, Grants {
  role: 'memory-manager' | 'supervisor';
  restart: NeverRestart;
}

export interface SupervisableComponent extends ComponentCommon, Grants {
  role: 'name-service' | 'task';
  restart: RestartPolicy;
}

/** Components other than the root task: those the root task builds. */
export type BuiltComponent = UnsupervisedComponent | SupervisableComponent;

/** The program a component runs. `path` is as written in the manifest, `file` resolved
 *  against the base directory. */
export type Image =
  | { kind: 'assemblyscript'; path: string; file: string }
  | { kind: 'elf'; path: string; file: string };

/** A sporadic-server budget: at most `budgetUs` of CPU time in every `periodUs`. */
export interface Sched {
  budgetUs: number;
  periodUs: number;
}

export type Device = UartDevice | TestDevice | VirtioDevice;

export interface UartDevice {
  kind: 'uart';
  /** Physical address of its register page. */
  regs: number;
  irq: number;
}

/** The SiFive test finisher: a write ends the run (pass, fail with a code, or reset). */
export interface TestDevice {
  kind: 'testdev';
  regs: number;
}

export interface VirtioDevice {
  kind: 'virtio';
  slot: number;
  /** The device type the component expects in the slot (checked when the board says). */
  expect: 'blk' | 'net' | null;
  regs: number;
  irq: number;
  /** DRAM the device may reach through the IOMMU (device id = slot). */
  dma: readonly DmaWindow[];
}

/** One IOMMU window on one frame: [base, base + pages * 4096), `pages` a power of two up to
 *  2^FRAME_MAX_SIZE_BITS and `base` aligned to the size. */
export interface DmaWindow {
  base: number;
  pages: number;
}

export interface Service {
  /** Unique over the manifest; lower-case letters, digits and '-'. */
  name: string;
  description: string | null;
  /** Who may use it: any component, or only those named. */
  clients: 'any' | readonly string[];
  /** Clients' endpoint capabilities carry Grant: they may pass capabilities with their calls. */
  grant: boolean;
  /** The first service of a blk or net driver only: ring-capable, each client gets
   *  Notification(ring:C) (required for a net driver: its clients wait on it for received frames). */
  ring: boolean;
  /** A blk driver's first service only: each client's virtual block device (null: every client
   *  gets the whole disk, read-write). */
  blockDevices: readonly BlockDevice[] | null;
  /** A net driver's first service only: each client's MAC address (required when the service
   *  has clients). */
  netDevices: readonly NetDevice[] | null;
}

/** A client's MAC address on a virtio-net driver: frames to it are that client's, and it may
 *  send only frames from it. `mac` is six bytes. */
export interface NetDevice {
  client: string;
  /** As written: "02:00:00:00:01:01" (lower case after parsing). */
  mac: string;
}

/** A client's virtual block device: disk sectors [firstSector, firstSector + sectors), or from
 *  firstSector to the end of the disk when `sectors` is null. */
export interface BlockDevice {
  client: string;
  firstSector: number;
  sectors: number | null;
  readOnly: boolean;
}

export type RestartPolicy = NeverRestart | AlwaysRestart | OnFailureRestart;

export interface NeverRestart {
  policy: 'never';
}

/** Restart whenever the component ends, cleanly or not, without limit. */
export interface AlwaysRestart {
  policy: 'always';
  backoff: Backoff;
}

/** Restart after a fault or a nonzero exit, at most `maxRestarts` times in a row. */
export interface OnFailureRestart {
  policy: 'on-failure';
  maxRestarts: number;
  backoff: Backoff;
}

/** Delay before a restart: `initialMs` the first time, doubling each consecutive restart, at
 *  most `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}
