// A frame: 2^n physical pages of DRAM (from untyped or the boot image), or a device register
// page (I/O memory, `device` true). Mapped into address spaces with FrameMap; the mapping
// database (vm.ts) remembers every mapping derived from it.

import { KObjectBase } from './kobject.ts';

export class Frame extends KObjectBase {
  readonly kind = 'frame' as const;
  constructor(
    readonly pa: number,
    readonly pages: number,
    readonly device: boolean,
  ) {
    super();
  }
}
