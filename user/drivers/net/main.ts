// The user-level virtio-net driver (docs/DRIVERS.md "Network"). Holds its NIC's register page,
// IRQ, DMA-window capability, a private frame (both virtqueues, transmit headers, receive
// buffers) and, per client, the client's data frame (window k: frames are transmitted from it
// without a copy; received frames are copied into it) and ring pages. A received frame goes to
// the client that owns its destination MAC address; a client may only send frames with its own
// source address.
//
// Started with NET_F_FORWARDER the same program is the IRQ forwarder: it waits on the IRQ
// notification and passes each interrupt to the driver's endpoint.

import {
  sysRecv, sysReplyRecv, sysReply, sysSend, sysInvoke, res, peek, poke, peek16, poke16, msgInfo, msgLabel,
  M_FRAME_MAP, M_FRAME_INFO, M_IRQ_SET_NTFN, M_IRQ_ACK, M_DMA_SET_WINDOW, DMA_READ, DMA_WRITE, SLOT_TASK,
  M_CAP_MOVE, M_CAP_DELETE, M_CAP_IDENTIFY, msgCaps, UTCB, UTCB_RECV_SLOT, OBJ_NOTIFICATION, OBJ_FRAME, RIGHT_WRITE, log,
} from '../util';
import {
  START_VA, MMIO_VA, PRIV_VA, RINGS_VA, CFG_MAGIC, CFG_MAGIC_BLK, CFG_ENDPOINT, CFG_IRQ, CFG_IRQ_NTFN, CFG_DMA,
  CFG_PRIV_FRAME, CFG_FLAGS, CFG_NCLIENTS, CFG_MMIO, CFG_CLIENTS, CLIENT_WORDS, CL_FLAGS, NCL_MAC_LO, NCL_MAC_HI,
  CL_DATA_FRAME, CL_DATA_BYTES, CL_NTFN, CL_RING, MAX_CLIENTS, CLF_PRESENT, DRV_F_VERBOSE, DRV_F_EVIL_DMA, NET_F_FORWARDER,
  NET_DRV_DATA_VA, NET_RXQ_SIZE, NET_TXQ_SIZE, NET_PRIV_RXQ_DESC, NET_PRIV_RXQ_AVAIL, NET_PRIV_RXQ_USED,
  NET_PRIV_TXQ_DESC, NET_PRIV_TXQ_AVAIL, NET_PRIV_TXQ_USED, NET_PRIV_TXHDR, NET_PRIV_RXBUF, NET_RXBUF_BYTES,
  NET_FRAME_MAX, NET_CLIENT_QUEUE, NET_OP_TX, NET_OP_RX, NET_OP_INFO, NET_KICK, NET_IRQ, NET_S_EMPTY,
  BLK_S_OK, BLK_S_IOERR, BLK_S_DENIED, BLK_S_UNSUPP, NREQ_ID, NREQ_OFFSET, NREQ_LEN, NRSP_ID, NRSP_STATUS, NRSP_LEN,
  NET_OP_CONNECT, DRV_STAGE_SLOT, DRV_CONN_SLOT,
} from '../../lib/io-proto';
import { ringEntry, ringRequestsAvailable, ringPushResponses, ringFinalCheckRequests } from '../../lib/ring';
import {
  R_QUEUE_NOTIFY, R_ISR, R_ISR_ACK, R_CONFIG, virtioProbe, virtioNegotiate, virtioSetupQueue, virtioDriverOk,
  virtioReset, virtioNeedsReset, virtioFailed, virtioZero, virtioResetsInARow,
} from '../../lib/virtio';

/** Start information: at the start argument (a0) when the root task maps it from the boot plan
 *  (START_INFO_BASE, src/manifest/bootplan.ts), else at START_VA (tests/io/rig.ts). */
const START_ARG: i32 = peek(<i32>0xd0000000 + 40); // DATA_BASE + RtData.StartArg
const START: i32 = START_ARG != 0 ? START_ARG : <i32>START_VA;
const MMIO: i32 = <i32>MMIO_VA;
const PRIV: i32 = <i32>PRIV_VA;
const RINGS: i32 = <i32>RINGS_VA;
const DDATA: i32 = <i32>NET_DRV_DATA_VA;

const F_MAC = 1 << 5;
const D_NEXT = 1, D_WRITE = 2;
const HDR = 12;
const OK = BLK_S_OK;

function cfg(i: i32): i32 { return peek(START + 4 * i); }
function clCfg(k: i32, i: i32): i32 { return cfg(CFG_CLIENTS + (k - 1) * CLIENT_WORDS + i); }
function reg(off: i32): i32 { return peek(MMIO + off); }
function setReg(off: i32, v: i32): void { poke(MMIO + off, v); }

let verbose = false;
/** Test variant (DRV_F_EVIL_DMA): the first buffer given to the device is misdirected. */
let evilPending = false;
let epSlot = 0;
let irqSlot = 0;
let privPa = 0;
let failed = false;
/** Highest configured client number: the loops over clients stop there. */
let maxK = 0;

const clOn = new StaticArray<bool>(MAX_CLIENTS + 1);
const clMacLo = new StaticArray<i32>(MAX_CLIENTS + 1);
const clMacHi = new StaticArray<i32>(MAX_CLIENTS + 1);
const clDataPa = new StaticArray<i32>(MAX_CLIENTS + 1);
const clDataBytes = new StaticArray<u32>(MAX_CLIENTS + 1);
const clNtfn = new StaticArray<i32>(MAX_CLIENTS + 1);
const clRing = new StaticArray<bool>(MAX_CLIENTS + 1);
const rxWaiting = new StaticArray<bool>(MAX_CLIENTS + 1);
// Per client: TX ring (index 2k) and RX ring (2k + 1) state.
const reqCons = new StaticArray<u32>(2 * MAX_CLIENTS + 2);
const rspProdPvt = new StaticArray<u32>(2 * MAX_CLIENTS + 2);
const rspPublished = new StaticArray<u32>(2 * MAX_CLIENTS + 2);
// Per client: received frames waiting (receive buffer index, length), a small FIFO.
const qBuf = new StaticArray<i32>((MAX_CLIENTS + 1) * NET_CLIENT_QUEUE);
const qLen = new StaticArray<i32>((MAX_CLIENTS + 1) * NET_CLIENT_QUEUE);
const qHead = new StaticArray<i32>(MAX_CLIENTS + 1);
const qCount = new StaticArray<i32>(MAX_CLIENTS + 1);

let rxAvail = 0; // u16
let rxLastUsed = 0;
let rxRecycled = false;
let txAvail = 0;
let txLastUsed = 0;
let txFree = NET_TXQ_SIZE / 2;
let txFreeSlot = 0; // next slot, round robin (TX completes during the notify)
let dropped = 0;
/** Direct receive: the NIC's only client uses the rings, so the buffers it posts on its receive
 *  ring go to the device as they are (header into the private frame, frame into the client's
 *  buffer): no copy. Chain c = descriptors 2c (header) and 2c + 1 (the client's buffer). */
let direct = false;
const chainId = new StaticArray<i32>(NET_RXQ_SIZE / 2);
const freeChains = new StaticArray<i32>(NET_RXQ_SIZE / 2);
let freeChainCount = 0;
/** Interrupt moderation (direct receive): after a receive interrupt the driver turns receive
 *  interrupts off (VIRTQ_AVAIL_F_NO_INTERRUPT) and looks at the receive queue every POLL_TICKS
 *  (a receive timeout on its endpoint) until a period brings nothing, then turns them on again
 *  and looks once more. A burst of frames then costs a timer tick per period instead of an
 *  interrupt, a forwarder round trip and an IrqAck per frame or two. */
const POLL_TICKS = 200; // mtime ticks: 20 µs at 10 MHz
const ERR_TIMEOUT = 9;
let polling = false;
let rxFlags = 0;

function fail(why: string): void {
  log('net: ' + why);
  failed = true;
}

function ringAddr(k: i32, rx: bool): i32 { return RINGS + k * 0x2000 + (rx ? 0x1000 : 0); }

function info(slot: i32): i32 {
  sysInvoke(slot, M_FRAME_INFO, 0, 0, 0, 0, 0);
  return res(1);
}

function postRx(i: i32): void {
  poke16(PRIV + NET_PRIV_RXQ_AVAIL + 4 + 2 * (rxAvail & (NET_RXQ_SIZE - 1)), i);
  rxAvail = (rxAvail + 1) & 0xffff;
  poke(PRIV + NET_PRIV_RXQ_AVAIL, (rxAvail << 16) | rxFlags);
  rxRecycled = true;
}

function setRxInterrupts(on: bool): void {
  rxFlags = on ? 0 : 1;
  poke(PRIV + NET_PRIV_RXQ_AVAIL, (rxAvail << 16) | rxFlags);
}

function init(): bool {
  if (cfg(CFG_MAGIC) != CFG_MAGIC_BLK) { fail('bad start information'); return false; }
  verbose = (cfg(CFG_FLAGS) & DRV_F_VERBOSE) != 0;
  evilPending = (cfg(CFG_FLAGS) & DRV_F_EVIL_DMA) != 0;
  epSlot = cfg(CFG_ENDPOINT);
  irqSlot = cfg(CFG_IRQ);
  const dma = cfg(CFG_DMA);
  const priv = cfg(CFG_PRIV_FRAME);
  let e = sysInvoke(cfg(CFG_MMIO), M_FRAME_MAP, SLOT_TASK, MMIO, 3, 0, 0);
  if (e != 0) { fail('cannot map the register page: error ' + e.toString()); return false; }
  e = sysInvoke(priv, M_FRAME_MAP, SLOT_TASK, PRIV, 3, 0, 0);
  if (e != 0) { fail('cannot map the private frame: error ' + e.toString()); return false; }
  privPa = info(priv);
  e = sysInvoke(dma, M_DMA_SET_WINDOW, 0, priv, DMA_READ | DMA_WRITE, 0, 0);
  if (e != 0) { fail('cannot open DMA window 0: error ' + e.toString()); return false; }
  const n = cfg(CFG_NCLIENTS);
  for (let k = 1; k <= MAX_CLIENTS; k++) {
    unchecked(clOn[k] = false);
    if (k > n || (clCfg(k, CL_FLAGS) & CLF_PRESENT) == 0) continue;
    const frame = clCfg(k, CL_DATA_FRAME);
    if (frame == 0) { expectConnect(k); continue; }
    // The device only reads client frames (transmit); received frames are copied in.
    e = sysInvoke(dma, M_DMA_SET_WINDOW, k, frame, DMA_READ, 0, 0);
    if (e == 0) e = sysInvoke(frame, M_FRAME_MAP, SLOT_TASK, DDATA + k * 0x0100_0000, 3, 0, 0);
    if (e != 0) { fail('client ' + k.toString() + ': cannot set up its data frame: error ' + e.toString()); continue; }
    unchecked(clOn[k] = true);
    unchecked(clMacLo[k] = clCfg(k, NCL_MAC_LO));
    unchecked(clMacHi[k] = clCfg(k, NCL_MAC_HI) & 0xffff);
    unchecked(clDataPa[k] = info(frame));
    unchecked(clDataBytes[k] = <u32>clCfg(k, CL_DATA_BYTES));
    unchecked(clNtfn[k] = clCfg(k, CL_NTFN));
    unchecked(clRing[k] = clCfg(k, CL_RING) != 0);
    maxK = k;
  }
  // Started from a boot plan, the root task has bound the IRQ to the notification already.
  if (START_ARG == 0) {
    e = sysInvoke(irqSlot, M_IRQ_SET_NTFN, cfg(CFG_IRQ_NTFN), 0, 0, 0, 0);
    if (e != 0) { fail('cannot bind the IRQ: error ' + e.toString()); return false; }
  }
  dmaSlot = dma;

  if (!virtioProbe(MMIO, 1)) { fail('no virtio-net device'); return false; }
  direct = maxK == 1 && unchecked(clOn[1]) && unchecked(clRing[1]);
  if (direct) {
    // The device may now write the client's frame (its receive buffers are in it).
    e = sysInvoke(dma, M_DMA_SET_WINDOW, 1, clCfg(1, CL_DATA_FRAME), DMA_READ | DMA_WRITE, 0, 0);
    if (e != 0) { fail('cannot open DMA window 1 for receive: error ' + e.toString()); return false; }
  }
  if (!startDevice()) return false;
  if (verbose && direct) log('net: direct receive into the ring client\'s buffers');
  if (verbose) log('net: ready, mac ' + (<u32>reg(R_CONFIG)).toString(16) + ':' + (reg(R_CONFIG + 4) & 0xffff).toString(16));
  return true;
}

/** Driver initialisation (virtio 1.2 §3.1.1, user/lib/virtio.ts) and both queues, at start and
 *  after a device reset: rings from index 0, receive buffers (or, for direct receive, free
 *  chains) and transmit slots laid out afresh in the private frame. False (with a message) if
 *  the device refuses. */
function startDevice(): bool {
  const why = virtioNegotiate(MMIO, F_MAC, 0);
  if (why != '') { fail(why); virtioFailed(MMIO); return false; }
  // The device starts again from index 0 in every ring (§2.7): so does the driver.
  virtioZero(PRIV + NET_PRIV_RXQ_AVAIL, 4 + 2 * NET_RXQ_SIZE + 4);
  virtioZero(PRIV + NET_PRIV_RXQ_USED, 4 + 8 * NET_RXQ_SIZE + 4);
  virtioZero(PRIV + NET_PRIV_TXQ_AVAIL, 4 + 2 * NET_TXQ_SIZE + 4);
  virtioZero(PRIV + NET_PRIV_TXQ_USED, 4 + 8 * NET_TXQ_SIZE + 4);
  rxAvail = 0;
  rxLastUsed = 0;
  rxFlags = 0;
  polling = false;
  txAvail = 0;
  txLastUsed = 0;
  txFree = NET_TXQ_SIZE / 2;
  txFreeSlot = 0;
  if (!virtioSetupQueue(MMIO, 0, NET_RXQ_SIZE, privPa + NET_PRIV_RXQ_DESC, privPa + NET_PRIV_RXQ_AVAIL, privPa + NET_PRIV_RXQ_USED)) {
    fail('receive queue too small');
    virtioFailed(MMIO);
    return false;
  }
  if (!virtioSetupQueue(MMIO, 1, NET_TXQ_SIZE, privPa + NET_PRIV_TXQ_DESC, privPa + NET_PRIV_TXQ_AVAIL, privPa + NET_PRIV_TXQ_USED)) {
    fail('transmit queue too small');
    virtioFailed(MMIO);
    return false;
  }
  // Receive descriptor i = receive buffer i; transmit slot s = descriptors 2s (header) and 2s+1.
  for (let i = 0; i < NET_RXQ_SIZE; i++) {
    const d = PRIV + NET_PRIV_RXQ_DESC + 16 * i;
    poke(d, privPa + NET_PRIV_RXBUF + i * NET_RXBUF_BYTES);
    poke(d + 4, 0);
    poke(d + 8, NET_RXBUF_BYTES);
    poke(d + 12, D_WRITE);
  }
  for (let s = 0; s < NET_TXQ_SIZE / 2; s++) {
    const d = PRIV + NET_PRIV_TXQ_DESC + 32 * s;
    poke(d, privPa + NET_PRIV_TXHDR + 16 * s);
    poke(d + 4, 0);
    poke(d + 8, HDR);
    poke(d + 12, D_NEXT | ((2 * s + 1) << 16));
    for (let w = 0; w < 4; w++) poke(PRIV + NET_PRIV_TXHDR + 16 * s + 4 * w, 0);
  }
  poke(PRIV + NET_PRIV_TXQ_AVAIL, 1); // VIRTQ_AVAIL_F_NO_INTERRUPT: transmit completes in the notify
  if (direct) {
    for (let c = 0; c < NET_RXQ_SIZE / 2; c++) {
      const d = PRIV + NET_PRIV_RXQ_DESC + 32 * c;
      poke(d, privPa + NET_PRIV_RXBUF + 16 * c);
      poke(d + 4, 0);
      poke(d + 8, HDR);
      poke(d + 12, D_WRITE | D_NEXT | ((2 * c + 1) << 16));
      poke(d + 28, D_WRITE);
      unchecked(freeChains[c] = c);
    }
    freeChainCount = NET_RXQ_SIZE / 2;
  } else {
    // Every receive buffer not holding a frame queued for a client goes to the device.
    for (let i = 0; i < NET_RXQ_SIZE; i++) unchecked(rxHeld[i] = false);
    for (let k = 1; k <= maxK; k++) {
      for (let j = 0; j < unchecked(qCount[k]); j++) unchecked(rxHeld[unchecked(qBuf[k * NET_CLIENT_QUEUE + (unchecked(qHead[k]) + j) % NET_CLIENT_QUEUE])] = true);
    }
    for (let i = 0; i < NET_RXQ_SIZE; i++) if (!unchecked(rxHeld[i])) postRx(i);
  }
  virtioDriverOk(MMIO);
  setReg(R_QUEUE_NOTIFY, 0);
  rxRecycled = false;
  return true;
}

// ---- device errors (docs/DRIVERS.md "Device errors and reset") -------------------------------

/** Resets in a row after which the driver gives up on its device. */
const MAX_RESETS = 3;
let resetsInARow = 0;
let resets = 0;
const rxHeld = new StaticArray<bool>(NET_RXQ_SIZE);
const chainFree = new StaticArray<bool>(NET_RXQ_SIZE / 2);

/**
 * The device failed (virtio 1.2 §2.1.2 DEVICE_NEEDS_RESET): reset it (§2.4), answer every
 * receive buffer a direct-receive client had at the device with an I/O error (BLK_S_IOERR,
 * length 0) and signal it, then initialise the device again (§3.1.1) on the same private frame;
 * DMA windows, clients, rings and frames already queued for clients stay. Frames on the wire
 * while the device is down are lost (as on any network). After MAX_RESETS resets with no buffer
 * used in between, it gives up: the device is left FAILED and the driver stops.
 */
function deviceError(why: string): void {
  resets++;
  resetsInARow = virtioResetsInARow(resetsInARow, rxLastUsed != 0 || txLastUsed != 0);
  virtioReset(MMIO);
  let failedRx = 0;
  if (direct) {
    for (let c = 0; c < NET_RXQ_SIZE / 2; c++) unchecked(chainFree[c] = false);
    for (let i = 0; i < freeChainCount; i++) unchecked(chainFree[unchecked(freeChains[i])] = true);
    for (let c = 0; c < NET_RXQ_SIZE / 2; c++) {
      if (unchecked(chainFree[c])) continue;
      respond(1, true, unchecked(chainId[c]), BLK_S_IOERR, 0);
      failedRx++;
    }
  }
  log('net: ' + why + ': resetting the device (reset ' + resets.toString() + ', ' + resetsInARow.toString() +
    ' in a row), failing ' + failedRx.toString() + ' receive buffer(s) in flight with an I/O error');
  publish();
  if (failedRx > 0 && unchecked(clRing[1])) sysSend(clNtfn[1], 0, 0, 0, 0, 0, 0);
  if (resetsInARow > MAX_RESETS) {
    fail('device failed ' + resetsInARow.toString() + ' times in a row without using a buffer: giving up, no longer serving');
    virtioFailed(MMIO);
    return;
  }
  if (startDevice() && verbose) log('net: device re-initialised, serving again');
}

// ---- receive -----------------------------------------------------------------------------------

function enqueue(k: i32, buf: i32, len: i32): void {
  if (qCount[k] == NET_CLIENT_QUEUE) { dropped++; postRx(buf); return; }
  const at = k * NET_CLIENT_QUEUE + ((qHead[k] + unchecked(qCount[k])) % NET_CLIENT_QUEUE);
  unchecked(qBuf[at] = buf);
  unchecked(qLen[at] = len);
  unchecked(qCount[k] = unchecked(qCount[k]) + 1);
  if (rxWaiting[k]) { unchecked(rxWaiting[k] = false); sysSend(clNtfn[k], 0, 0, 0, 0, 0, 0); }
}

/** Take every received frame off the device and queue it for the client owning its address. */
function harvestRx(): void {
  if (direct) { harvestDirect(); return; }
  const u = peek16(PRIV + NET_PRIV_RXQ_USED + 2);
  while (rxLastUsed != u) {
    const e = PRIV + NET_PRIV_RXQ_USED + 4 + 8 * (rxLastUsed & (NET_RXQ_SIZE - 1));
    rxLastUsed = (rxLastUsed + 1) & 0xffff;
    const buf = peek(e);
    const len = peek(e + 4) - HDR;
    if (buf < 0 || buf >= NET_RXQ_SIZE) { fail('device returned a bad id'); continue; }
    if (len < 14) { postRx(buf); continue; }
    const f = PRIV + NET_PRIV_RXBUF + buf * NET_RXBUF_BYTES + HDR;
    const lo = peek(f);
    const hi = peek(f + 4) & 0xffff;
    let owner = 0;
    for (let k = 1; k <= maxK; k++) if (clOn[k] && unchecked(clMacLo[k]) == lo && unchecked(clMacHi[k]) == hi) { owner = k; break; }
    if (owner == 0) { dropped++; postRx(buf); continue; }
    enqueue(owner, buf, len);
  }
}

function postChain(c: i32): void {
  poke16(PRIV + NET_PRIV_RXQ_AVAIL + 4 + 2 * (rxAvail & (NET_RXQ_SIZE - 1)), 2 * c);
  rxAvail = (rxAvail + 1) & 0xffff;
  poke(PRIV + NET_PRIV_RXQ_AVAIL, (rxAvail << 16) | rxFlags);
  rxRecycled = true;
}

/** Direct receive: each used chain is a frame already in the client's buffer. */
function harvestDirect(): void {
  const u = peek16(PRIV + NET_PRIV_RXQ_USED + 2);
  while (rxLastUsed != u) {
    const e = PRIV + NET_PRIV_RXQ_USED + 4 + 8 * (rxLastUsed & (NET_RXQ_SIZE - 1));
    rxLastUsed = (rxLastUsed + 1) & 0xffff;
    const head = peek(e);
    const len = peek(e + 4) - HDR;
    if (head < 0 || head >= NET_RXQ_SIZE || (head & 1) != 0) { fail('device returned a bad id'); continue; }
    const c = head >> 1;
    // Only frames for the client's address are its; others (and runts) are dropped, and the
    // buffer goes back to the device.
    const f = DDATA + 0x0100_0000 + (peek(PRIV + NET_PRIV_RXQ_DESC + 32 * c + 16) - unchecked(clDataPa[1]));
    if (len < 14 || peek(f) != unchecked(clMacLo[1]) || (peek(f + 4) & 0xffff) != unchecked(clMacHi[1])) {
      dropped++;
      postChain(c);
      continue;
    }
    respond(1, true, unchecked(chainId[c]), OK, len);
    unchecked(freeChains[freeChainCount++] = c);
  }
}

/** Direct receive: give the buffers the client posted to the device. */
function postDirect(): i32 {
  if (!unchecked(clRing[1])) return 0;
  const ring = ringAddr(1, true);
  let avail = ringRequestsAvailable(ring, unchecked(reqCons[3]), unchecked(rspProdPvt[3]));
  if (avail < 0) { disconnect(1); return 0; }
  let n = 0;
  while (avail > 0 && freeChainCount > 0) {
    const e = ringEntry(ring, unchecked(reqCons[3]));
    const id = peek(e + NREQ_ID);
    const offset = <u32>peek(e + NREQ_OFFSET);
    const room = <u32>peek(e + NREQ_LEN);
    unchecked(reqCons[3] = unchecked(reqCons[3]) + 1);
    avail--;
    n++;
    if ((offset & 3) != 0 || room < 14 || room > unchecked(clDataBytes[1]) || offset > unchecked(clDataBytes[1]) - room) {
      respond(1, true, id, BLK_S_DENIED, 0);
      continue;
    }
    const c = unchecked(freeChains[--freeChainCount]);
    unchecked(chainId[c] = id);
    const d = PRIV + NET_PRIV_RXQ_DESC + 32 * c + 16;
    let pa = unchecked(clDataPa[1]) + <i32>offset;
    if (evilPending) {
      // The misbehaving variant: a receive buffer below the client's frame, outside every window.
      evilPending = false;
      pa = unchecked(clDataPa[1]) - 0x10_0000;
      log('net: (evil variant) programming receive DMA to 0x' + (<u32>pa).toString(16) + ', outside the windows');
    }
    poke(d, pa);
    poke(d + 8, <i32>room);
    postChain(c);
  }
  return n;
}

/** Copy the oldest queued frame of client k into its buffer; returns its length, or -1 if it
 *  does not fit (the frame is dropped). */
function deliverTo(k: i32, offset: u32, room: u32): i32 {
  const at = k * NET_CLIENT_QUEUE + unchecked(qHead[k]);
  const buf = unchecked(qBuf[at]);
  const len = unchecked(qLen[at]);
  unchecked(qHead[k] = (unchecked(qHead[k]) + 1) % NET_CLIENT_QUEUE);
  unchecked(qCount[k] = unchecked(qCount[k]) - 1);
  let r = -1;
  if ((offset & 3) == 0 && <u32>((len + 31) & ~31) <= room && room <= unchecked(clDataBytes[k]) && offset <= unchecked(clDataBytes[k]) - room) {
    const src = PRIV + NET_PRIV_RXBUF + buf * NET_RXBUF_BYTES + HDR;
    const dst = DDATA + k * 0x0100_0000 + <i32>offset;
    // Whole 32-byte chunks (buffers are 2 KiB and the room at least the length rounded up).
    const end = dst + ((len + 31) & ~31);
    let d = dst, s = src;
    while (d < end) {
      poke(d, peek(s)); poke(d + 4, peek(s + 4)); poke(d + 8, peek(s + 8)); poke(d + 12, peek(s + 12));
      poke(d + 16, peek(s + 16)); poke(d + 20, peek(s + 20)); poke(d + 24, peek(s + 24)); poke(d + 28, peek(s + 28));
      d += 32;
      s += 32;
    }
    r = len;
  }
  postRx(buf);
  return r;
}

/** Ring clients: fill posted receive buffers with queued frames. */
function serveRxRings(): i32 {
  if (direct) return postDirect();
  let n = 0;
  for (let k = 1; k <= maxK; k++) {
    if (!unchecked(clOn[k]) || !unchecked(clRing[k]) || unchecked(qCount[k]) == 0) continue;
    const ring = ringAddr(k, true);
    const ri = 2 * k + 1;
    let avail = ringRequestsAvailable(ring, unchecked(reqCons[ri]), unchecked(rspProdPvt[ri]));
    if (avail < 0) { disconnect(k); continue; }
    while (avail > 0 && unchecked(qCount[k]) > 0) {
      const e = ringEntry(ring, unchecked(reqCons[ri]));
      const id = peek(e + NREQ_ID);
      const offset = <u32>peek(e + NREQ_OFFSET);
      const room = <u32>peek(e + NREQ_LEN);
      unchecked(reqCons[ri] = unchecked(reqCons[ri]) + 1);
      avail--;
      const len = deliverTo(k, offset, room);
      respond(k, true, id, len < 0 ? BLK_S_DENIED : OK, len < 0 ? 0 : len);
      n++;
    }
  }
  return n;
}

// ---- transmit ----------------------------------------------------------------------------------

/** Check and queue one frame of client k (not yet notified). */
function transmit(k: i32, offset: u32, len: u32): i32 {
  if (len < 14 || len > <u32>NET_FRAME_MAX || len > unchecked(clDataBytes[k]) || offset > unchecked(clDataBytes[k]) - len) return BLK_S_DENIED;
  if ((offset & 3) != 0) return BLK_S_DENIED;
  const f = DDATA + k * 0x0100_0000 + <i32>offset;
  // Source address: bytes 6..11 must be the client's own.
  const w1 = peek(f + 4);
  const w2 = peek(f + 8);
  if (((<u32>w1 >> 16) | (w2 << 16)) != unchecked(clMacLo[k]) || ((<u32>w2 >> 16) & 0xffff) != <u32>unchecked(clMacHi[k])) return BLK_S_DENIED;
  if (txFree == 0) harvestTx();
  const s = txFreeSlot;
  txFreeSlot = (txFreeSlot + 1) % (NET_TXQ_SIZE / 2);
  txFree--;
  const d = PRIV + NET_PRIV_TXQ_DESC + 32 * s + 16;
  let pa = unchecked(clDataPa[k]) + <i32>offset;
  if (evilPending && !direct) {
    // The misbehaving variant, copying receive: the frame is read from below the client's frame.
    evilPending = false;
    pa = unchecked(clDataPa[k]) - 0x10_0000;
    log('net: (evil variant) programming transmit DMA to 0x' + (<u32>pa).toString(16) + ', outside the windows');
  }
  poke(d, pa);
  poke(d + 4, 0);
  poke(d + 8, <i32>len);
  poke(d + 12, 0);
  poke16(PRIV + NET_PRIV_TXQ_AVAIL + 4 + 2 * (txAvail & (NET_TXQ_SIZE - 1)), 2 * s);
  txAvail = (txAvail + 1) & 0xffff;
  poke(PRIV + NET_PRIV_TXQ_AVAIL, (txAvail << 16) | 1);
  return OK;
}

function harvestTx(): void {
  setReg(R_QUEUE_NOTIFY, 1);
  const u = peek16(PRIV + NET_PRIV_TXQ_USED + 2);
  while (txLastUsed != u) {
    txLastUsed = (txLastUsed + 1) & 0xffff;
    txFree++;
  }
}

function serveTxRings(): i32 {
  let n = 0;
  for (let k = 1; k <= maxK; k++) {
    if (!unchecked(clOn[k]) || !unchecked(clRing[k])) continue;
    const ring = ringAddr(k, false);
    const ri = 2 * k;
    const avail = ringRequestsAvailable(ring, unchecked(reqCons[ri]), unchecked(rspProdPvt[ri]));
    if (avail < 0) { disconnect(k); continue; }
    for (let i = 0; i < avail; i++) {
      const e = ringEntry(ring, unchecked(reqCons[ri]));
      const id = peek(e + NREQ_ID);
      const offset = <u32>peek(e + NREQ_OFFSET);
      const len = <u32>peek(e + NREQ_LEN);
      unchecked(reqCons[ri] = unchecked(reqCons[ri]) + 1);
      respond(k, false, id, transmit(k, offset, len), 0);
      n++;
    }
  }
  if (n > 0) harvestTx();
  return n;
}

// ---- rings -------------------------------------------------------------------------------------

function respond(k: i32, rx: bool, id: i32, status: i32, len: i32): void {
  const ri = 2 * k + (rx ? 1 : 0);
  const e = ringEntry(ringAddr(k, rx), unchecked(rspProdPvt[ri]));
  poke(e + NRSP_ID, id);
  poke(e + NRSP_STATUS, status);
  poke(e + NRSP_LEN, len);
  unchecked(rspProdPvt[ri] = unchecked(rspProdPvt[ri]) + 1);
}

function publish(): void {
  for (let k = 1; k <= maxK; k++) {
    if (!unchecked(clOn[k]) || !unchecked(clRing[k])) continue;
    let notify = false;
    for (let rx = 0; rx < 2; rx++) {
      const ri = 2 * k + rx;
      if (rspProdPvt[ri] == unchecked(rspPublished[ri])) continue;
      if (ringPushResponses(ringAddr(k, rx != 0), unchecked(rspProdPvt[ri]), unchecked(rspPublished[ri]))) notify = true;
      unchecked(rspPublished[ri] = unchecked(rspProdPvt[ri]));
    }
    if (notify) sysSend(clNtfn[k], 0, 0, 0, 0, 0, 0);
  }
}

function disconnect(k: i32): void {
  log('net: client ' + k.toString() + ': impossible request producer index; ring disconnected');
  unchecked(clRing[k] = false);
}

// ---- connecting at run time (started from a manifest) -------------------------------------------

let dmaSlot = 0;
const unconnected = new StaticArray<bool>(MAX_CLIENTS + 1);

/** Client k of the start information has no data frame: it connects itself (NET_OP_CONNECT).
 *  Its MAC is known; it receives nothing until then (clOn is false). */
function expectConnect(k: i32): void {
  unchecked(clOn[k] = false);
  unchecked(clMacLo[k] = clCfg(k, NCL_MAC_LO));
  unchecked(clMacHi[k] = clCfg(k, NCL_MAC_HI) & 0xffff);
  unchecked(clRing[k] = false);
  unchecked(unconnected[k] = true);
  maxK = k;
}

/** The type of the capability in our slot `s` (0 = empty); its rights in res(2). */
function identify(s: i32): i32 {
  if (sysInvoke(SLOT_TASK, M_CAP_IDENTIFY, s, 0, 0, 0, 0) != 0) return 0;
  return res(1);
}

/** NET_OP_CONNECT from client k with `n` capabilities at DRV_STAGE_SLOT: data frame (RW, at most
 *  16 MiB), notification (W), and for the rings a two-page ring frame (RW). Checks them, keeps
 *  them at DRV_CONN_SLOT + 4k, opens DMA window k (device reads: transmit) and maps the frames. */
function connect(k: i32, n: i32): i32 {
  if (k < 1 || k > MAX_CLIENTS || !unchecked(unconnected[k]) || n < 2 || n > 3) return BLK_S_DENIED;
  const st = DRV_STAGE_SLOT;
  if (identify(st) != OBJ_FRAME || (res(2) & 3) != 3) return BLK_S_DENIED;
  sysInvoke(st, M_FRAME_INFO, 0, 0, 0, 0, 0);
  if (res(2) > 4096) return BLK_S_DENIED; // the driver maps data frames 16 MiB apart
  if (identify(st + 1) != OBJ_NOTIFICATION || (res(2) & RIGHT_WRITE) == 0) return BLK_S_DENIED;
  if (n == 3) {
    if (identify(st + 2) != OBJ_FRAME || (res(2) & 3) != 3) return BLK_S_DENIED;
    sysInvoke(st + 2, M_FRAME_INFO, 0, 0, 0, 0, 0);
    if (res(2) != 2) return BLK_S_DENIED; // TX ring page, RX ring page
  }
  const base = DRV_CONN_SLOT + 4 * k;
  for (let i = 0; i < n; i++) {
    if (sysInvoke(SLOT_TASK, M_CAP_MOVE, st + i, base + i, 0, 0, 0) != 0) return dropConnection(base, n);
  }
  if (sysInvoke(dmaSlot, M_DMA_SET_WINDOW, k, base, DMA_READ, 0, 0) != 0) return dropConnection(base, n);
  if (sysInvoke(base, M_FRAME_MAP, SLOT_TASK, DDATA + k * 0x0100_0000, 3, 0, 0) != 0) return dropConnection(base, n);
  sysInvoke(base, M_FRAME_INFO, 0, 0, 0, 0, 0);
  unchecked(clDataPa[k] = res(1));
  unchecked(clDataBytes[k] = <u32>res(2) * 4096);
  unchecked(clNtfn[k] = base + 1);
  if (n == 3) {
    if (sysInvoke(base + 2, M_FRAME_MAP, SLOT_TASK, ringAddr(k, false), 3, 0, 0) != 0) return dropConnection(base, n);
    for (let ri = 2 * k; ri < 2 * k + 2; ri++) {
      unchecked(reqCons[ri] = 0);
      unchecked(rspProdPvt[ri] = 0);
      unchecked(rspPublished[ri] = 0);
    }
    unchecked(clRing[k] = true);
  }
  unchecked(qHead[k] = 0);
  unchecked(qCount[k] = 0);
  unchecked(rxWaiting[k] = false);
  unchecked(unconnected[k] = false);
  unchecked(clOn[k] = true);
  if (verbose) log('net: client ' + k.toString() + ' connected' + (n == 3 ? ' with rings' : ''));
  return OK;
}

/** A connect that failed half way: delete what was kept (the mappings and the DMA window go
 *  with the capabilities), so that the client may try again. */
function dropConnection(base: i32, n: i32): i32 {
  for (let i = 0; i < n; i++) if (identify(base + i) != 0) sysInvoke(SLOT_TASK, M_CAP_DELETE, base + i, 0, 0, 0, 0);
  return BLK_S_DENIED;
}

/** Drop capabilities left in the staging slots (sent with anything but a good CONNECT). */
function clearStage(): void {
  for (let i = 0; i < 3; i++) if (identify(DRV_STAGE_SLOT + i) != 0) sysInvoke(SLOT_TASK, M_CAP_DELETE, DRV_STAGE_SLOT + i, 0, 0, 0, 0);
}

function forwarder(): i32 {
  const ntfn = cfg(CFG_IRQ_NTFN);
  while (true) {
    if (sysRecv(ntfn, 0, 0, 0, 0, 0, 0) != 0) return 3;
    sysSend(epSlot, msgInfo(NET_IRQ, 0), 0, 0, 0, 0, 0);
  }
  return 0;
}

export function main(): i32 {
  epSlot = cfg(CFG_ENDPOINT);
  if ((cfg(CFG_FLAGS) & NET_F_FORWARDER) != 0) return forwarder();
  if (!init()) return 1;
  poke(UTCB + UTCB_RECV_SLOT, DRV_STAGE_SLOT);
  let replyPending = false;
  let r0 = 0, r1 = 0, r2 = 0;
  while (!failed) {
    const work = serveTxRings() + serveRxRings();
    publish();
    if (rxRecycled) { rxRecycled = false; setReg(R_QUEUE_NOTIFY, 0); }
    if (work > 0) continue;
    let more = false;
    for (let k = 1; k <= maxK; k++) {
      if (!unchecked(clOn[k]) || !unchecked(clRing[k])) continue;
      if (ringFinalCheckRequests(ringAddr(k, false), unchecked(reqCons[2 * k]))) more = true;
      const rxWanted = direct ? freeChainCount > 0 : qCount[k] > 0;
      if (rxWanted && ringFinalCheckRequests(ringAddr(k, true), unchecked(reqCons[2 * k + 1]))) more = true;
    }
    if (more) continue;
    let err = 0;
    const timeout = polling ? POLL_TICKS : 0;
    if (replyPending) {
      err = sysReplyRecv(epSlot, msgInfo(0, 3), r0, r1, r2, 0, timeout);
      replyPending = false;
    } else {
      err = sysRecv(epSlot, 0, 0, 0, 0, 0, timeout);
    }
    if (err == ERR_TIMEOUT) {
      const before = rxLastUsed;
      harvestRx();
      if (rxLastUsed == before) {
        // A quiet period: interrupts on again, then look once more (a frame that came in
        // between raised none).
        polling = false;
        setRxInterrupts(true);
        harvestRx();
      }
      continue;
    }
    if (err != 0) continue;
    const label = msgLabel(res(1));
    const k = res(6);
    if (label == NET_IRQ) {
      const isr = reg(R_ISR);
      setReg(R_ISR_ACK, isr);
      harvestRx();
      sysInvoke(irqSlot, M_IRQ_ACK, 0, 0, 0, 0, 0);
      if ((isr & 2) != 0 && virtioNeedsReset(MMIO)) deviceError('device needs reset (DEVICE_NEEDS_RESET)');
      if (direct && !polling) {
        polling = true;
        setRxInterrupts(false);
      }
      continue;
    }
    const ncaps = msgCaps(res(1));
    if (ncaps != 0 && label != NET_OP_CONNECT) clearStage();
    if (label == NET_KICK) continue;
    replyPending = true;
    r1 = 0;
    r2 = 0;
    if (label == NET_OP_CONNECT) {
      r0 = connect(k, ncaps);
      if (ncaps != 0) clearStage();
      if (r0 == OK) { r1 = unchecked(clMacLo[k]); r2 = unchecked(clMacHi[k]); }
      continue;
    }
    if (k < 1 || k > MAX_CLIENTS || !unchecked(clOn[k])) { r0 = BLK_S_DENIED; continue; }
    if (label == NET_OP_INFO) {
      r0 = OK;
      r1 = unchecked(clMacLo[k]);
      r2 = unchecked(clMacHi[k]);
    } else if (label == NET_OP_TX) {
      r0 = transmit(k, <u32>res(2), <u32>res(3));
      if (r0 == OK) harvestTx();
      if (r0 == OK && virtioNeedsReset(MMIO)) r0 = BLK_S_IOERR; // the device failed on it (reset at its interrupt)
    } else if (label == NET_OP_RX) {
      if (qCount[k] == 0) {
        r0 = NET_S_EMPTY;
        unchecked(rxWaiting[k] = true);
      } else {
        const len = deliverTo(k, <u32>res(2), <u32>res(3));
        r0 = len < 0 ? BLK_S_DENIED : OK;
        r1 = len < 0 ? 0 : len;
      }
    } else {
      r0 = BLK_S_UNSUPP;
    }
  }
  return 2;
}
