// Interrupt wiring between devices, the PLIC, the CLINT and the hart.
//
// The hart exposes its interrupt-pending inputs (the hardware-driven bits of mip, RISC-V
// privileged spec §3.1.9) as `HartInterruptPins`; the CLINT drives MSIP/MTIP and the PLIC
// drives MEIP/SEIP. Devices only ever see an `IrqLine` for their own PLIC source.

/** mip/mie bit numbers (privileged spec §3.1.9, Table "Machine interrupt register"). */
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;

/** The hart's hardware interrupt inputs. `bit` is one of the IRQ_* numbers above. */
export interface HartInterruptPins {
  setInterruptPending(bit: number, level: boolean): void;
}

/** A level-triggered interrupt line into the PLIC, owned by one device. */
export interface IrqLine {
  set(level: boolean): void;
}

/** Something that accepts level changes on numbered interrupt sources (the PLIC). */
export interface IrqController {
  setSourceLevel(source: number, level: boolean): void;
}

/** The line for `source` on `controller`. */
export function irqLine(controller: IrqController, source: number): IrqLine {
  return { set: (level: boolean) => controller.setSourceLevel(source, level) };
}
