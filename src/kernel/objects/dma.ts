// A DMA window capability: the right to program the IOMMU windows of one device. Each window
// is opened on a frame capability the caller holds and closes when that capability goes.

import { KObjectBase } from './kobject.ts';
import type { Cap } from './cap.ts';

export class DmaWindowObj extends KObjectBase {
  readonly kind = 'dma' as const;
  /** The frame capability behind each open window, or null. */
  readonly windows: (Cap | null)[];
  constructor(readonly device: number, windowCount: number) {
    super();
    this.windows = new Array<Cap | null>(windowCount).fill(null);
  }
}
