// The JSON Schema of the boot manifest: the single definition of its shape.
//
// manifests/schema.json is generated from MANIFEST_SCHEMA (`node --import tsx
// src/manifest/gen-schema.ts`; schema.test.ts fails when the file is stale), and the validator
// (schema-check.ts) checks documents against this very object, so the reference users read,
// the completion editors offer and what parseManifest accepts cannot drift apart.
//
// Only the keywords schema-check.ts implements may appear (schema.test.ts walks the tree); a
// `oneOf` must be discriminated: every branch fixes one property (`kind`, `policy`) with `const`.
// Rules that span several values (budget <= period, names that resolve, devices granted once,
// overlaps, sums, cycles) are not expressible here; rules.ts checks them.

import { IOMMU_WINDOWS } from '../machine/iommu.ts';
import { PLIC_SOURCES } from '../machine/plic.ts';
import { PRIO_MAX, FRAME_MAX_SIZE_BITS } from '../abi/caps.ts';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** The subset of JSON Schema draft 2020-12 that the manifest uses and schema-check.ts checks. */
export interface Schema {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, Schema>;
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  type?: JsonType | JsonType[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: false;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /** Annotation (ignored by other validators): what `pattern` accepts, as a noun phrase, for the
   *  error message "<value> is not <x-pattern-description>". */
  'x-pattern-description'?: string;
  enum?: (string | number)[];
  const?: string | number;
  oneOf?: Schema[];
}

/** Keywords schema-check.ts understands; any other keyword in MANIFEST_SCHEMA is a bug. */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  '$schema', '$id', '$ref', '$defs', 'title', 'description', 'default', 'examples', 'type',
  'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minimum',
  'maximum', 'minLength', 'maxLength', 'pattern', 'x-pattern-description', 'enum', 'const', 'oneOf',
]);

/** Longest sched period, in microseconds: a minute (ScConfigure takes 32-bit mtime ticks). */
export const SCHED_MAX_US = 60_000_000;
/** Longest restart backoff, in milliseconds: an hour. */
export const BACKOFF_MAX_MS = 3_600_000;
/** Most restarts an on-failure policy may allow. */
export const MAX_RESTARTS_LIMIT = 1000;

const NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
const NAME_MEANING = 'lower-case letters, digits and "-", starting with a letter, at most 32 characters';

const backoff: Schema = {
  type: 'object',
  description:
    'Delay before a restart: restart number k (1, 2, ...) waits min(initialMs * 2^(k-1), maxMs) ' +
    'milliseconds after the component ended.',
  properties: {
    initialMs: {
      type: 'integer', minimum: 1, maximum: BACKOFF_MAX_MS,
      description: 'Delay before the first restart, in milliseconds.',
    },
    maxMs: {
      type: 'integer', minimum: 1, maximum: BACKOFF_MAX_MS,
      description: 'The delay doubles on each restart up to this many milliseconds; at least initialMs.',
    },
  },
  required: ['initialMs', 'maxMs'],
  additionalProperties: false,
};

export const MANIFEST_SCHEMA: Schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'l4ts boot manifest',
  description:
    'The system the root task builds at boot: its components, their images, priorities, CPU ' +
    'budgets, memory quotas, the devices and IRQs each is granted, the services each provides ' +
    'and uses, and how each is restarted. Reference: docs/MANIFEST.md.',
  type: 'object',
  properties: {
    $schema: {
      type: 'string',
      description: 'The schema this file follows, for editors (e.g. "./schema.json"). Not used by l4ts.',
    },
    version: {
      type: 'integer', const: 1,
      description: 'Manifest format version. Always 1.',
    },
    description: {
      type: 'string',
      description: 'What this system is, for people. Not used by l4ts.',
    },
    components: {
      type: 'array', minItems: 1,
      items: { $ref: '#/$defs/component' },
      description:
        'The components, each one task with one thread. Exactly one has role "root" and one ' +
        'role "memory-manager". Badges the components receive are their position here plus 1.',
    },
  },
  required: ['version', 'components'],
  additionalProperties: false,
  $defs: {
    name: {
      type: 'string', pattern: NAME_PATTERN, 'x-pattern-description': `a valid name (${NAME_MEANING})`,
      description: `A component or service name: ${NAME_MEANING}.`,
    },
    address: {
      type: ['integer', 'string'], minimum: 0, maximum: 0xffff_ffff,
      pattern: '^0x[0-9a-fA-F]+(_[0-9a-fA-F]+)*$',
      'x-pattern-description': 'a number or a hexadecimal string such as "0x8700_0000" ("_" may separate digits)',
      description: 'A 32-bit physical address: a number, or a hexadecimal string such as "0x8700_0000".',
    },
    component: {
      type: 'object',
      description: 'One component: a task with one thread, running one image.',
      properties: {
        name: { $ref: '#/$defs/name', description: 'Unique name of the component; other fields refer to it by this name.' },
        description: { type: 'string', description: 'What the component does, for people. Not used by l4ts.' },
        role: {
          enum: ['root', 'memory-manager', 'name-service', 'supervisor', 'task'], default: 'task',
          description:
            'What the component is to the system. "root": the first task, started by the kernel, which ' +
            'builds all others (exactly one; it takes no grants and is never restarted). ' +
            '"memory-manager": pages every other component within its memoryPages (exactly one). ' +
            '"name-service": hands out the service endpoints listed in "uses" (required when any ' +
            'component uses a service). "supervisor": restarts components that fail (required when ' +
            'any restart policy is not "never"). "task": everything else (default).',
        },
        image: {
          type: 'string', pattern: '^[^/\\\\][^\\\\]*\\.(ts|elf)$',
          'x-pattern-description': 'a relative path ending in ".ts" (AssemblyScript source) or ".elf" (prebuilt RV32 image), with "/" separators',
          description:
            'The program: an AssemblyScript source (".ts", compiled with wasm2rv) or a prebuilt RV32 ' +
            'ELF (".elf"), relative to the base directory (the project root for manifests/default.json).',
          examples: ['user/hello/main.ts'],
        },
        priority: {
          type: 'integer', minimum: 0, maximum: PRIO_MAX,
          description: `Scheduling priority of the thread, 0..${PRIO_MAX}; higher runs first.`,
        },
        sched: {
          type: 'object',
          description: 'The CPU budget of the thread (its scheduling context): at most budgetUs of CPU time in every periodUs.',
          properties: {
            budgetUs: {
              type: 'integer', minimum: 1, maximum: SCHED_MAX_US,
              description: 'CPU time per period, in microseconds of virtual time; at most periodUs.',
            },
            periodUs: {
              type: 'integer', minimum: 1, maximum: SCHED_MAX_US,
              description: `Length of the period, in microseconds of virtual time (at most ${SCHED_MAX_US}, one minute).`,
            },
          },
          required: ['budgetUs', 'periodUs'],
          additionalProperties: false,
        },
        memoryPages: {
          type: 'integer', minimum: 1,
          description:
            'Memory quota in 4 KiB pages: the most memory the component can hold (for the root task: ' +
            'what it needs to build the system). All quotas and DMA windows together must fit in DRAM.',
        },
        devices: {
          type: 'array', items: { $ref: '#/$defs/device' }, default: [],
          description: 'Devices whose register page the component is granted. A device is granted to one component at most.',
        },
        irqs: {
          type: 'array', default: [],
          items: {
            type: 'integer', minimum: 1, maximum: PLIC_SOURCES - 1,
            description: `A PLIC interrupt source, 1..${PLIC_SOURCES - 1}.`,
          },
          description:
            'Interrupt sources the component handles (the UART is 10, virtio slot n is 1+n). Each belongs to ' +
            'one of its devices and is granted to one component at most. Source irqs[k] signals bit k of the ' +
            "component's interrupt notification.",
        },
        provides: {
          type: 'array', items: { $ref: '#/$defs/service' }, default: [],
          description: 'Services the component serves, each one IPC endpoint it receives on.',
        },
        uses: {
          type: 'array', items: { $ref: '#/$defs/name' }, default: [],
          description:
            'Names of services (provided by other components) this component may use; the name service ' +
            'hands it their endpoints, badged with its own badge.',
        },
        startAfter: {
          type: 'array', items: { $ref: '#/$defs/name' }, default: [],
          description: 'Components the root task starts before this one. There must be no cycle.',
        },
        restart: { $ref: '#/$defs/restart', description: 'What the supervisor does when the component ends or faults. Default: never restart.' },
        forwardsIrqsOf: {
          $ref: '#/$defs/name',
          description:
            'This component is the IRQ forwarder of the named virtio-net driver (running the driver\'s image): it holds the driver\'s ' +
            'interrupt notification (R) and its service endpoint (W), waits for the interrupts and passes each to the driver, which ' +
            'waits on its endpoint (an L4 thread waits on one object). Every virtio-net driver has exactly one; it holds nothing else ' +
            '(no devices, irqs, provides or uses). Give it a higher priority than the driver.',
        },
      },
      required: ['name', 'image', 'priority', 'sched', 'memoryPages'],
      additionalProperties: false,
    },
    device: {
      description: 'A device on the board, by kind.',
      oneOf: [
        {
          type: 'object',
          description: 'The 16550 UART: its register page at 0x1000_0000 (IRQ 10).',
          properties: {
            kind: { const: 'uart', description: 'The 16550 UART.' },
          },
          required: ['kind'],
          additionalProperties: false,
        },
        {
          type: 'object',
          description:
            'The test device (SiFive test finisher) at 0x0010_0000: a write ends the run with a pass, a ' +
            'failure code or a reset. For a component that shuts the system down. No IRQ.',
          properties: {
            kind: { const: 'testdev', description: 'The test device.' },
          },
          required: ['kind'],
          additionalProperties: false,
        },
        {
          type: 'object',
          description: 'A virtio-mmio slot: its register page at 0x1000_1000 + slot * 0x1000 (IRQ 1 + slot), and IOMMU device number slot.',
          properties: {
            kind: { const: 'virtio', description: 'A virtio-mmio device.' },
            slot: {
              type: 'integer', minimum: 0,
              description: 'The slot number; the board has slots 0..7.',
            },
            expect: {
              enum: ['blk', 'net'],
              description: 'The device type the component drives; refused when the board says the slot holds something else.',
            },
            dma: {
              type: 'array', maxItems: IOMMU_WINDOWS, default: [],
              items: { $ref: '#/$defs/dmaWindow' },
              description:
                `DRAM the device may reach by DMA, one IOMMU window each (at most ${IOMMU_WINDOWS}). The component ` +
                'gets one frame per window and the right to open the windows. Windows must not overlap each other.',
            },
          },
          required: ['kind', 'slot'],
          additionalProperties: false,
        },
      ],
    },
    dmaWindow: {
      type: 'object',
      description:
        "DRAM for a device's DMA, one frame: [base, base + pages * 4096), pages a power of two, base " +
        'aligned to the size.',
      properties: {
        base: { $ref: '#/$defs/address', description: 'Physical base address, a multiple of the size, in DRAM above the reserved area.' },
        pages: {
          type: 'integer', minimum: 1, maximum: 2 ** FRAME_MAX_SIZE_BITS,
          description: `Size in 4 KiB pages: 1, 2, 4, ... or ${2 ** FRAME_MAX_SIZE_BITS} (a frame is a power of two, at most 4 MiB).`,
        },
      },
      required: ['base', 'pages'],
      additionalProperties: false,
    },
    service: {
      type: 'object',
      description: 'A service: an IPC endpoint the component receives on and clients call.',
      properties: {
        name: { $ref: '#/$defs/name', description: 'Unique service name; clients list it in "uses".' },
        description: { type: 'string', description: 'What the service does, for people. Not used by l4ts.' },
        clients: {
          type: 'array', minItems: 1, items: { $ref: '#/$defs/name' },
          description: 'The only components that may use the service. Without it, any component may.',
        },
        grant: {
          type: 'boolean', default: false,
          description: 'Clients may pass capabilities with their calls (their endpoint capability has Grant), e.g. the frames a block driver connects them with. Default false.',
        },
        ring: {
          type: 'boolean', default: false,
          description: 'Ring-capable (only the first service of a virtio-blk or virtio-net driver; required for virtio-net, whose clients wait on it for received frames): every component that uses it gets a Notification, Notification(ring:<client>) RW in its first free slot, which it passes to the driver when it connects, for the driver to signal its ring responses. Default false.',
        },
        blockDevices: {
          type: 'array', minItems: 1, items: { $ref: '#/$defs/blockDevice' },
          description: 'Only for the first service of a virtio-blk driver (a component with a virtio device expecting "blk"): the virtual block device of each client, and then every component that uses the service must have one. ' +
            'Devices may overlap only if all of them are read-only; a device beyond the disk is refused by the driver at start. Without it, every client gets the whole disk, read-write.',
        },
        netDevices: {
          type: 'array', minItems: 1, items: { $ref: '#/$defs/netDevice' },
          description: 'Only for the first service of a virtio-net driver (a component with a virtio device expecting "net" and a DMA window), and required there ' +
            'when the service has clients: the MAC address of each client, one entry per component that uses the service. The driver delivers the frames ' +
            'addressed to it to that client only and lets it send only frames from it. Addresses are unicast and unique over the manifest (all NICs are on one switch).',
        },
      },
      required: ['name'],
      additionalProperties: false,
    },
    netDevice: {
      type: 'object',
      description: 'One client\'s MAC address on a virtio-net driver.',
      properties: {
        client: { $ref: '#/$defs/name', description: 'The component (one that uses the service) this address is for.' },
        mac: {
          type: 'string', pattern: '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$',
          'x-pattern-description': 'a MAC address: six hexadecimal bytes separated by ":", such as "02:00:00:00:01:01"',
          description: 'Its MAC address, six bytes such as "02:00:00:00:01:01" (unicast: the low bit of the first byte clear; not 00:00:00:00:00:00).',
          examples: ['02:00:00:00:01:01'],
        },
      },
      required: ['client', 'mac'],
      additionalProperties: false,
    },
    blockDevice: {
      type: 'object',
      description: 'One client\'s virtual block device: a range of the disk\'s 512-byte sectors, which the client sees as sectors 0..sectors-1.',
      properties: {
        client: { $ref: '#/$defs/name', description: 'The component (one that uses the service) this device is for.' },
        firstSector: { type: 'integer', minimum: 0, maximum: 0xffff_fffe, default: 0, description: 'The disk sector that is the device\'s sector 0. Default 0.' },
        sectors: { type: 'integer', minimum: 1, maximum: 0xffff_fffe, description: 'How many sectors. Without it: from firstSector to the end of the disk (firstSector 0: the whole disk).' },
        readOnly: { type: 'boolean', default: false, description: 'The driver refuses the client\'s writes. Default false (read-write).' },
      },
      required: ['client'],
      additionalProperties: false,
    },
    restart: {
      description: 'A restart policy, by "policy".',
      default: { policy: 'never' },
      oneOf: [
        {
          type: 'object',
          description: 'Never restart: when the component ends or faults, it stays stopped.',
          properties: {
            policy: { const: 'never', description: 'Never restart.' },
          },
          required: ['policy'],
          additionalProperties: false,
        },
        {
          type: 'object',
          description: 'Restart whenever the component ends, cleanly or not, without limit.',
          properties: {
            policy: { const: 'always', description: 'Always restart.' },
            backoff,
          },
          required: ['policy', 'backoff'],
          additionalProperties: false,
        },
        {
          type: 'object',
          description: 'Restart after a fault or a nonzero exit, at most maxRestarts times; then it stays stopped.',
          properties: {
            policy: { const: 'on-failure', description: 'Restart after failures only.' },
            maxRestarts: {
              type: 'integer', minimum: 1, maximum: MAX_RESTARTS_LIMIT,
              description: `How many times the component may be restarted over the life of the system, 1..${MAX_RESTARTS_LIMIT}.`,
            },
            backoff,
          },
          required: ['policy', 'maxRestarts', 'backoff'],
          additionalProperties: false,
        },
      ],
    },
  },
};

/** manifests/schema.json as gen-schema.ts writes it. */
export function schemaJsonText(): string {
  return JSON.stringify(MANIFEST_SCHEMA, null, 2) + '\n';
}
