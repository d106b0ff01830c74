import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrqLine } from './irq.ts';
import {
  FCR_CLEAR_RX, FCR_ENABLE, IER_RDI, IER_THRI, IIR_NO_INT, IIR_RDI, IIR_THRI, IIR_TIMEOUT, LCR_DLAB,
  LSR_DR, LSR_TEMT, LSR_THRE, MCR_LOOP, Uart16550, UART_DLL, UART_DLM, UART_FCR, UART_IER, UART_IIR,
  UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_RBR, UART_SCR, UART_THR,
} from './uart16550.ts';

class Line implements IrqLine {
  level = false;
  changes = 0;
  set(level: boolean): void {
    this.level = level;
    this.changes++;
  }
}

function setup() {
  const line = new Line();
  const uart = new Uart16550(line);
  const out: number[] = [];
  uart.onOutput = (b) => out.push(b);
  const r = (o: number) => uart.read(o, 1);
  const w = (o: number, v: number) => uart.write(o, 1, v);
  return { line, uart, out, r, w };
}

test('uart: THR bytes go to onOutput at once; LSR shows THR empty and transmitter empty', () => {
  const { out, r, w } = setup();
  assert.equal(r(UART_LSR), LSR_THRE | LSR_TEMT);
  for (const c of 'hi\n') w(UART_THR, c.charCodeAt(0));
  assert.deepEqual(out, [0x68, 0x69, 0x0a]);
  assert.equal(r(UART_LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
});

test('uart: received bytes are read from RBR in order; LSR.DR tracks them', () => {
  const { uart, r } = setup();
  assert.equal(r(UART_LSR) & LSR_DR, 0);
  uart.pushInput(new TextEncoder().encode('ok'));
  assert.equal(r(UART_LSR) & LSR_DR, LSR_DR);
  assert.equal(r(UART_RBR), 0x6f);
  assert.equal(r(UART_RBR), 0x6b);
  assert.equal(r(UART_LSR) & LSR_DR, 0);
  assert.equal(r(UART_RBR), 0, 'empty RBR reads 0');
});

test('uart: receive interrupt in 16450 mode; cleared by reading RBR', () => {
  const { line, uart, r, w } = setup();
  w(UART_IER, IER_RDI);
  assert.equal(line.level, false);
  assert.equal(r(UART_IIR), IIR_NO_INT);
  uart.pushInput(Uint8Array.of(0x41, 0x42));
  assert.equal(line.level, true);
  assert.equal(r(UART_IIR), IIR_RDI);
  assert.equal(r(UART_RBR), 0x41);
  assert.equal(line.level, true, 'the next byte moves into the holding register');
  assert.equal(r(UART_RBR), 0x42);
  assert.equal(line.level, false);
});

test('uart: FIFO mode — trigger level gives IIR 0x4, fewer bytes give character timeout 0xC', () => {
  const { line, uart, r, w } = setup();
  w(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | (1 << 6)); // trigger 4
  w(UART_IER, IER_RDI);
  uart.pushInput(Uint8Array.of(1, 2));
  assert.equal(line.level, true);
  assert.equal(r(UART_IIR), 0xc0 | IIR_TIMEOUT);
  uart.pushInput(Uint8Array.of(3, 4, 5));
  assert.equal(r(UART_IIR), 0xc0 | IIR_RDI);
  r(UART_RBR);
  r(UART_RBR);
  assert.equal(r(UART_IIR), 0xc0 | IIR_TIMEOUT, '3 bytes left, below the trigger');
});

test('uart: input beyond the 16-byte FIFO waits host-side and is never lost; FCR clears only the FIFO', () => {
  const { uart, r, w } = setup();
  w(UART_FCR, FCR_ENABLE);
  const data = Uint8Array.from({ length: 40 }, (_, i) => i);
  uart.pushInput(data);
  assert.equal(uart.pendingInput, 40);
  w(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX);
  assert.equal(uart.pendingInput, 24, 'the 16 bytes in the FIFO are discarded');
  const got: number[] = [];
  while (r(UART_LSR) & LSR_DR) got.push(r(UART_RBR));
  assert.deepEqual(got, Array.from({ length: 24 }, (_, i) => i + 16));
});

test('uart: THR-empty interrupt — raised on enable, cleared by reading IIR, re-raised by a THR write', () => {
  const { line, r, w } = setup();
  w(UART_IER, IER_THRI);
  assert.equal(line.level, true);
  assert.equal(r(UART_IIR), IIR_THRI);
  assert.equal(line.level, false, 'reading IIR with THRE reported clears it');
  assert.equal(r(UART_IIR), IIR_NO_INT);
  w(UART_THR, 0x2a);
  assert.equal(line.level, true, 'THR empties at once after the write');
  w(UART_IER, 0);
  assert.equal(line.level, false);
});

test('uart: received data takes priority over THR empty in IIR', () => {
  const { uart, r, w } = setup();
  w(UART_IER, IER_RDI | IER_THRI);
  uart.pushInput(Uint8Array.of(7));
  assert.equal(r(UART_IIR), IIR_RDI);
  r(UART_RBR);
  assert.equal(r(UART_IIR), IIR_THRI);
});

test('uart: DLAB selects the divisor latch; LCR, MCR, SCR read back; MSR reports the modem lines', () => {
  const { out, r, w } = setup();
  w(UART_LCR, LCR_DLAB | 0x03);
  w(UART_DLL, 0x01);
  w(UART_DLM, 0x00);
  assert.equal(r(UART_DLL), 1);
  assert.equal(r(UART_DLM), 0);
  assert.deepEqual(out, [], 'divisor writes are not output');
  w(UART_LCR, 0x03);
  assert.equal(r(UART_LCR), 0x03);
  assert.equal(r(UART_IER), 0, 'IER untouched by the DLM write');
  w(UART_SCR, 0x5a);
  assert.equal(r(UART_SCR), 0x5a);
  w(UART_MCR, 0x0b);
  assert.equal(r(UART_MCR), 0x0b);
  assert.equal(r(UART_MSR), 0xb0);
});

test('uart: loopback returns THR bytes to the receiver', () => {
  const { out, r, w } = setup();
  w(UART_MCR, MCR_LOOP | 0x03);
  w(UART_THR, 0x99);
  assert.deepEqual(out, []);
  assert.equal(r(UART_LSR) & LSR_DR, LSR_DR);
  assert.equal(r(UART_RBR), 0x99);
  assert.equal(r(UART_MSR) & 0x30, 0x30, 'CTS and DSR follow RTS and DTR');
});
