// A 16550A UART (National Semiconductor PC16550D datasheet), as QEMU virt's ns16550a at
// 0x1000_0000 with register shift 0 (one byte per register), PLIC source 10.
//
// Registers (offset: read / write; DLAB = LCR bit 7):
//   0  RBR receive buffer / THR transmit holding      (DLAB=1: DLL divisor latch low)
//   1  IER interrupt enable                           (DLAB=1: DLM divisor latch high)
//   2  IIR interrupt identification / FCR FIFO control
//   3  LCR line control    4 MCR modem control    5 LSR line status    6 MSR modem status
//   7  SCR scratch
// Offsets 8..0xff read 0 and ignore writes. Accesses of 2 or 4 bytes act on the byte register at
// the offset (reads return it zero-extended, writes use the low byte).
//
// Timing model: transmission is instantaneous in virtual time. A byte written to THR is handed
// to `onOutput` during the write; THR and the transmitter are therefore always empty (LSR.THRE
// and LSR.TEMT read 1) and the divisor latch and LCR framing have no effect on timing.
// Reception: `pushInput` appends host bytes to a host-side queue that feeds the 16-byte receive
// FIFO (1 byte in 16450 mode, FCR bit 0 clear) as the guest reads RBR — as if RTS/CTS flow
// control held the sender back — so input is never lost and LSR.OE never sets.
//
// Interrupts (datasheet Table "Interrupt Control Functions"), highest priority first:
//   IIR 0x6 receiver line status  — never raised (no errors are modelled);
//   IIR 0x4 received data available — IER bit 0, FIFO at or above the FCR trigger level
//           (or any byte, in 16450 mode); cleared by reading RBR below the trigger;
//   IIR 0xC character timeout — IER bit 0, 1..trigger-1 bytes in the FIFO. The datasheet waits
//           four character times; here that wait is zero, so it is raised at once;
//   IIR 0x2 THR empty — IER bit 1; set when THR becomes empty (after each THR write, at once) and
//           when IER bit 1 goes from 0 to 1; cleared by reading IIR while it is the reported
//           source, or by writing THR (which empties THR again at once and so re-raises it);
//   IIR 0x0 modem status — never raised (the modem lines do not change).
// IIR bits 7:6 read 11 while the FIFOs are enabled. The PLIC line is high while IIR bit 0 is 0.
// MCR OUT2 does not gate the line (as on QEMU virt). MCR loopback (bit 4) sends THR bytes back to
// the receiver instead of `onOutput`, and MSR then mirrors MCR as the datasheet describes.

import type { MmioDevice } from './bus.ts';
import type { IrqLine } from './irq.ts';

export const UART_BASE = 0x1000_0000;
export const UART_SIZE = 0x100;
export const UART_IRQ = 10;

export const UART_RBR = 0, UART_THR = 0, UART_DLL = 0;
export const UART_IER = 1, UART_DLM = 1;
export const UART_IIR = 2, UART_FCR = 2;
export const UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7;

export const IER_RDI = 0x01; // received data available
export const IER_THRI = 0x02; // THR empty
export const IER_RLSI = 0x04; // receiver line status
export const IER_MSI = 0x08; // modem status

export const IIR_NO_INT = 0x01;
export const IIR_RLSI = 0x06;
export const IIR_RDI = 0x04;
export const IIR_TIMEOUT = 0x0c;
export const IIR_THRI = 0x02;
export const IIR_FIFO_ENABLED = 0xc0;

export const FCR_ENABLE = 0x01;
export const FCR_CLEAR_RX = 0x02;
export const FCR_CLEAR_TX = 0x04;

export const LCR_DLAB = 0x80;
export const MCR_LOOP = 0x10;

export const LSR_DR = 0x01;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;

export const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

const FIFO_DEPTH = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14];

export class Uart16550 implements MmioDevice {
  readonly name = 'uart0';
  /** Receives each transmitted byte, during the THR write. Set by the board. */
  onOutput: ((byte: number) => void) | null = null;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fifoEnabled = false;
  private trigger = 1;
  private thrPending = false;
  /** Received bytes: the first min(length, fifoCapacity) are in the FIFO, the rest wait host-side. */
  private rx: number[] = [];
  private rxHead = 0;
  private irqLevel = false;

  constructor(private readonly irq: IrqLine) {}

  /** Back to the reset state (datasheet "Reset Control"); pending host input is kept. */
  reset(): void {
    this.ier = 0; this.lcr = 0; this.mcr = 0; this.scr = 0; this.dll = 0; this.dlm = 0;
    this.fifoEnabled = false;
    this.trigger = 1;
    this.thrPending = false;
    this.update();
  }

  /** Host input: bytes typed at the console, delivered in order. */
  pushInput(bytes: Uint8Array): void {
    for (const b of bytes) this.rx.push(b);
    this.update();
  }

  /** Bytes received and not yet read by the guest (FIFO plus host-side queue). */
  get pendingInput(): number {
    return this.rx.length - this.rxHead;
  }

  read(offset: number, _size: 1 | 2 | 4): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR: {
        if (dlab) return this.dll;
        if (this.pendingInput === 0) return 0;
        const b = this.rx[this.rxHead++];
        if (this.rxHead > 4096 && this.rxHead * 2 > this.rx.length) {
          this.rx = this.rx.slice(this.rxHead);
          this.rxHead = 0;
        }
        this.update();
        return b;
      }
      case UART_IER:
        return dlab ? this.dlm : this.ier;
      case UART_IIR: {
        const id = this.interruptId();
        if (id === IIR_THRI) {
          this.thrPending = false;
          this.update();
        }
        return id | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
      }
      case UART_LCR: return this.lcr;
      case UART_MCR: return this.mcr;
      case UART_LSR: return (this.inFifo() > 0 ? LSR_DR : 0) | LSR_THRE | LSR_TEMT;
      case UART_MSR: return this.msr();
      case UART_SCR: return this.scr;
      default: return 0;
    }
  }

  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    value &= 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_THR:
        if (dlab) { this.dll = value; return; }
        this.transmit(value);
        return;
      case UART_IER: {
        if (dlab) { this.dlm = value; return; }
        const old = this.ier;
        this.ier = value & 0x0f;
        // THR is always empty: enabling its interrupt raises it (datasheet: set when THRE and
        // ETBEI are both true); disabling drops it.
        if ((this.ier & IER_THRI) === 0) this.thrPending = false;
        else if ((old & IER_THRI) === 0) this.thrPending = true;
        this.update();
        return;
      }
      case UART_FCR: {
        const enable = (value & FCR_ENABLE) !== 0;
        // Changing FIFO enable clears both FIFOs (datasheet FCR bit 0).
        if (enable !== this.fifoEnabled || (value & FCR_CLEAR_RX) !== 0) this.clearRxFifo();
        this.fifoEnabled = enable;
        this.trigger = TRIGGER_LEVELS[value >> 6];
        this.update();
        return;
      }
      case UART_LCR: this.lcr = value; return;
      case UART_MCR: this.mcr = value & 0x1f; return;
      case UART_SCR: this.scr = value; return;
      default: return; // LSR and MSR are read-only here
    }
  }

  private transmit(byte: number): void {
    if ((this.mcr & MCR_LOOP) !== 0) this.rx.push(byte);
    else this.onOutput?.(byte);
    // Transmission is instantaneous: THR is empty again, so the THRE interrupt re-arms.
    this.thrPending = (this.ier & IER_THRI) !== 0;
    this.update();
  }

  /** Capacity of the receive FIFO in the current mode. */
  private fifoCapacity(): number {
    return this.fifoEnabled ? FIFO_DEPTH : 1;
  }

  /** Bytes in the receive FIFO (the host-side queue refills it as the guest reads). */
  private inFifo(): number {
    return Math.min(this.pendingInput, this.fifoCapacity());
  }

  private clearRxFifo(): void {
    this.rxHead += this.inFifo();
  }

  private msr(): number {
    if ((this.mcr & MCR_LOOP) === 0) return MSR_DCD | MSR_DSR | MSR_CTS;
    const m = this.mcr;
    return ((m & 0x02) !== 0 ? MSR_CTS : 0) | ((m & 0x01) !== 0 ? MSR_DSR : 0) |
      ((m & 0x04) !== 0 ? MSR_RI : 0) | ((m & 0x08) !== 0 ? MSR_DCD : 0);
  }

  /** The IIR interrupt id (bits 3:0), by the datasheet's priority order. */
  private interruptId(): number {
    const n = this.inFifo();
    if ((this.ier & IER_RDI) !== 0 && n > 0) {
      return this.fifoEnabled && n < this.trigger ? IIR_TIMEOUT : IIR_RDI;
    }
    if ((this.ier & IER_THRI) !== 0 && this.thrPending) return IIR_THRI;
    return IIR_NO_INT;
  }

  private update(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
