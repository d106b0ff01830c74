// Untyped memory: a range of DRAM pages from which objects are carved in order (a watermark),
// seL4 style. The watermark goes back to the start only when no capability derived from the
// untyped remains (CapRevoke on the untyped capability).

import { KObjectBase } from './kobject.ts';

export class Untyped extends KObjectBase {
  readonly kind = 'untyped' as const;
  /** Next free byte offset within the range. */
  watermark = 0;
  /** Objects carved from this untyped that are still alive. */
  live = 0;
  constructor(
    /** Physical base (page-aligned). */
    readonly pa: number,
    readonly pages: number,
  ) {
    super();
  }
}
