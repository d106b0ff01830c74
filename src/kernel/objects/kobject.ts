// The common part of every kernel object: a count of the capabilities that point at it.
// When the last one goes, the object is destroyed (kernel.ts destroyObject).

export abstract class KObjectBase {
  /** Capabilities naming this object. */
  refs = 0;
  /** The untyped it was carved from (its memory returns there when it dies), or null. */
  untyped: import("./untyped.ts").Untyped | null = null;
  /** False once destroyed; a destroyed object is never reachable from a capability. */
  alive = true;
}

import type { Untyped } from './untyped.ts';
import type { Task } from './task.ts';
import type { Thread } from './thread.ts';
import type { Endpoint } from './endpoint.ts';
import type { Notification } from './notification.ts';
import type { Frame } from './frame.ts';
import type { IrqHandler } from './irq.ts';
import type { DmaWindowObj } from './dma.ts';
import type { SchedContext } from './schedcontext.ts';

export type KObject = Untyped | Task | Thread | Endpoint | Notification | Frame | IrqHandler | DmaWindowObj | SchedContext;
