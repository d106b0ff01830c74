// An IRQ handler: the right to one PLIC source. Bound to a notification, an interrupt of the
// source signals it; the driver acknowledges with IrqAck (the kernel then completes the PLIC
// claim, so the source cannot interrupt again before the driver has handled it).

import { KObjectBase } from './kobject.ts';
import type { Notification } from './notification.ts';

export class IrqHandler extends KObjectBase {
  readonly kind = 'irq' as const;
  notification: Notification | null = null;
  badge = 0;
  /** Claimed from the PLIC and not yet acknowledged. */
  pending = false;
  constructor(readonly source: number) {
    super();
  }
}
