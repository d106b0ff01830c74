// The user-level virtio-blk driver (docs/DRIVERS.md). It holds the device's register page, its
// IRQ (bound to a notification) and its DMA-window capability; it opens window 0 on its private
// frame (virtqueue, indirect tables, request headers, status words) and window k on client k's
// data frame, so the device can reach nothing else. Clients are virtual block devices (a range
// of sectors, read-only or read-write) named by the badge of their endpoint capability.
//
// One thread, one loop. Synchronous clients Call the endpoint (one request per call, data in
// their data frame, which the device reaches directly). Ring clients put requests on their
// shared ring page and kick with a one-way message only when the driver asked for it
// (req_event); the driver answers on the ring and signals the client's notification only when
// the client asked for it (rsp_event). A batch of ring requests goes to the device with one
// notify and, with VIRTIO_F_EVENT_IDX, comes back with one interrupt.
//
// Port of user/bare/virtio-blk.S (initialisation, split virtqueue, request layout), with
// interrupts instead of polling and indirect descriptors (one ring slot per request).

import {
  sysRecv, sysReplyRecv, sysReply, sysSend, sysInvoke, res, peek, poke, peek16, poke16, msgInfo, msgLabel,
  M_FRAME_MAP, M_FRAME_INFO, M_IRQ_SET_NTFN, M_IRQ_ACK, M_DMA_SET_WINDOW, DMA_READ, DMA_WRITE, SLOT_TASK,
  M_CAP_MOVE, M_CAP_DELETE, M_CAP_IDENTIFY, msgCaps, UTCB, UTCB_RECV_SLOT, OBJ_NOTIFICATION, OBJ_FRAME, RIGHT_WRITE,
} from '../util';
import {
  START_VA, MMIO_VA, PRIV_VA, RINGS_VA, CFG_MAGIC, CFG_MAGIC_BLK, CFG_ENDPOINT, CFG_IRQ, CFG_IRQ_NTFN, CFG_DMA,
  CFG_PRIV_FRAME, CFG_FLAGS, CFG_NCLIENTS, CFG_MMIO, CFG_CLIENTS, CLIENT_WORDS, CL_FLAGS, CL_BASE, CL_SECTORS,
  CL_DATA_FRAME, CL_DATA_BYTES, CL_NTFN, CL_RING, MAX_CLIENTS, CLF_PRESENT, CLF_WRITE, DRV_F_EVIL_DMA,
  DRV_F_VERBOSE, DRV_F_EVIL_RESET, VQ_SIZE, PRIV_DESC, PRIV_AVAIL, PRIV_USED, PRIV_INDIRECT, PRIV_HDR, PRIV_STATUS,
  BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_INFO, BLK_KICK, BLK_MAX_SECTORS, BLK_S_OK, BLK_S_IOERR,
  BLK_S_UNSUPP, BLK_S_DENIED, BLK_WHOLE_DISK, BLK_OP_CONNECT, DRV_STAGE_SLOT, DRV_CONN_SLOT, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET, RSP_ID, RSP_OP, RSP_STATUS,
} from '../../lib/io-proto';
import {
  ringEntry, ringRequestsAvailable, ringPushResponses, ringFinalCheckRequests,
} from '../../lib/ring';
import {
  R_QUEUE_NOTIFY, R_ISR, R_ISR_ACK, R_CONFIG, virtioProbe, virtioNegotiate, virtioOffered, virtioSetupQueue,
  virtioDriverOk, virtioReset, virtioNeedsReset, virtioFailed, virtioZero, virtioResetsInARow,
} from '../../lib/virtio';

/** Start information: at the start argument (a0) when the root task maps it from the boot plan
 *  (START_INFO_BASE, src/manifest/bootplan.ts), else at START_VA (tests/io/rig.ts). */
const START_ARG: i32 = peek(<i32>0xd0000000 + 40); // DATA_BASE + RtData.StartArg
const START: i32 = START_ARG != 0 ? START_ARG : <i32>START_VA;
const MMIO: i32 = <i32>MMIO_VA;
const PRIV: i32 = <i32>PRIV_VA;
const RINGS: i32 = <i32>RINGS_VA;

const F_RO = 1 << 5, F_FLUSH = 1 << 9, F_INDIRECT = 1 << 28, F_EVENT_IDX = 1 << 29;
const D_NEXT = 1, D_WRITE = 2, D_INDIRECT = 4;
const T_IN = 0, T_OUT = 1, T_FLUSH = 4;

function cfg(i: i32): i32 { return peek(START + 4 * i); }
function clCfg(k: i32, i: i32): i32 { return cfg(CFG_CLIENTS + (k - 1) * CLIENT_WORDS + i); }
function reg(off: i32): i32 { return peek(MMIO + off); }
function setReg(off: i32, v: i32): void { poke(MMIO + off, v); }

let flags = 0;
let dmaSlot = 0;
const unconnected = new StaticArray<bool>(MAX_CLIENTS + 1);
let verbose = false;
let epSlot = 0;
let irqSlot = 0;
let irqNtfn = 0;
let privPa = 0;
let capacity: u32 = 0;
let deviceRo = false;
let canFlush = false;

// Clients 1..MAX_CLIENTS (index 0 unused).
const clFlags = new StaticArray<i32>(MAX_CLIENTS + 1);
const clBase = new StaticArray<u32>(MAX_CLIENTS + 1);
const clSectors = new StaticArray<u32>(MAX_CLIENTS + 1);
const clDataPa = new StaticArray<i32>(MAX_CLIENTS + 1);
const clDataBytes = new StaticArray<u32>(MAX_CLIENTS + 1);
const clNtfn = new StaticArray<i32>(MAX_CLIENTS + 1);
const clRing = new StaticArray<bool>(MAX_CLIENTS + 1);
const reqCons = new StaticArray<u32>(MAX_CLIENTS + 1);
const rspProdPvt = new StaticArray<u32>(MAX_CLIENTS + 1);
const rspPublished = new StaticArray<u32>(MAX_CLIENTS + 1);
const rspDirty = new StaticArray<bool>(MAX_CLIENTS + 1);

// Virtqueue slots (one per request in flight).
const freeSlots = new StaticArray<i32>(VQ_SIZE);
let freeCount = 0;
const slotOwner = new StaticArray<i32>(VQ_SIZE); // 0 = the synchronous request
const slotId = new StaticArray<i32>(VQ_SIZE);
const slotOp = new StaticArray<i32>(VQ_SIZE);
let availIdx = 0; // u16, free-running
let lastUsed = 0; // u16
let inflight = 0;
let syncDone = false;
let syncStatus = 0;
let evilPending = false;
let failed = false;
/** Highest configured client number: the loops over clients stop there. */
let maxK = 0;

function fail(why: string): void {
  console.log('blk: ' + why);
  failed = true;
}

function info(slot: i32): i32 {
  sysInvoke(slot, M_FRAME_INFO, 0, 0, 0, 0, 0);
  return res(1);
}

function init(): bool {
  if (cfg(CFG_MAGIC) != CFG_MAGIC_BLK) { fail('bad start information'); return false; }
  flags = cfg(CFG_FLAGS);
  verbose = (flags & DRV_F_VERBOSE) != 0;
  evilPending = (flags & DRV_F_EVIL_DMA) != 0;
  epSlot = cfg(CFG_ENDPOINT);
  irqSlot = cfg(CFG_IRQ);
  irqNtfn = cfg(CFG_IRQ_NTFN);
  const dma = cfg(CFG_DMA);
  dmaSlot = dma;
  const priv = cfg(CFG_PRIV_FRAME);
  // Map the register page and the private frame; open DMA windows.
  let e = sysInvoke(cfg(CFG_MMIO), M_FRAME_MAP, SLOT_TASK, MMIO, 3, 0, 0);
  if (e != 0) { fail('cannot map the register page: error ' + e.toString()); return false; }
  e = sysInvoke(priv, M_FRAME_MAP, SLOT_TASK, PRIV, 3, 0, 0);
  if (e != 0) { fail('cannot map the private frame: error ' + e.toString()); return false; }
  privPa = info(priv);
  e = sysInvoke(dma, M_DMA_SET_WINDOW, 0, priv, DMA_READ | DMA_WRITE, 0, 0);
  if (e != 0) { fail('cannot open DMA window 0: error ' + e.toString()); return false; }
  const n = cfg(CFG_NCLIENTS);
  for (let k = 1; k <= MAX_CLIENTS; k++) {
    unchecked(clFlags[k] = 0);
    if (k > n || (clCfg(k, CL_FLAGS) & CLF_PRESENT) == 0) continue;
    const frame = clCfg(k, CL_DATA_FRAME);
    if (frame == 0) {
      // Connects at run time (BLK_OP_CONNECT): known device, no frames yet.
      unchecked(clFlags[k] = clCfg(k, CL_FLAGS));
      unchecked(clBase[k] = <u32>clCfg(k, CL_BASE));
      unchecked(clSectors[k] = <u32>clCfg(k, CL_SECTORS));
      unchecked(clDataBytes[k] = 0);
      unchecked(clRing[k] = false);
      unconnected[k] = true;
      maxK = k;
      continue;
    }
    e = sysInvoke(dma, M_DMA_SET_WINDOW, k, frame, DMA_READ | DMA_WRITE, 0, 0);
    if (e != 0) { fail('client ' + k.toString() + ': cannot open its DMA window: error ' + e.toString()); continue; }
    unchecked(clFlags[k] = clCfg(k, CL_FLAGS));
    unchecked(clBase[k] = <u32>clCfg(k, CL_BASE));
    unchecked(clSectors[k] = <u32>clCfg(k, CL_SECTORS));
    unchecked(clDataPa[k] = info(frame));
    unchecked(clDataBytes[k] = <u32>clCfg(k, CL_DATA_BYTES));
    unchecked(clNtfn[k] = clCfg(k, CL_NTFN));
    unchecked(clRing[k] = clCfg(k, CL_RING) != 0);
    maxK = k;
  }
  // Started from a boot plan, the root task has bound the IRQ to the notification already.
  if (START_ARG == 0) {
    e = sysInvoke(irqSlot, M_IRQ_SET_NTFN, irqNtfn, 0, 0, 0, 0);
    if (e != 0) { fail('cannot bind the IRQ: error ' + e.toString()); return false; }
  }

  if (!virtioProbe(MMIO, 2)) { fail('no virtio-blk device'); return false; }
  if (!startDevice()) return false;
  capacity = <u32>reg(R_CONFIG); // low word of le64 capacity (disks below 2 TiB)
  for (let k = 1; k <= maxK; k++) {
    if (clFlags[k] == 0) continue;
    if (clSectors[k] == <u32>BLK_WHOLE_DISK) unchecked(clSectors[k] = clBase[k] < capacity ? capacity - clBase[k] : 0);
    if (clSectors[k] > capacity || unchecked(clBase[k]) > capacity - unchecked(clSectors[k])) {
      fail('client ' + k.toString() + ': virtual block device [' + clBase[k].toString() + ', ' + (<u64>clBase[k] + <u64>clSectors[k]).toString() +
        ') is beyond the disk (' + capacity.toString() + ' sectors): the manifest does not fit this disk');
      unchecked(clFlags[k] = 0);
    }
    if (deviceRo) unchecked(clFlags[k] = unchecked(clFlags[k]) & ~CLF_WRITE);
  }
  if (verbose) console.log('blk: ready, ' + capacity.toString() + ' sectors');
  return true;
}

/** Driver initialisation (virtio 1.2 §3.1.1, user/lib/virtio.ts) and queue 0, at start and after
 *  a device reset: the private frame's virtqueue is laid out afresh (ring indices 0, descriptor
 *  i -> indirect table i, every slot free). False (with a message) if the device refuses. */
function startDevice(): bool {
  const why = virtioNegotiate(MMIO, F_EVENT_IDX | F_INDIRECT | F_FLUSH | F_RO, F_EVENT_IDX | F_INDIRECT);
  if (why != '') { fail(why); virtioFailed(MMIO); return false; }
  const offered = virtioOffered();
  deviceRo = (offered & F_RO) != 0;
  canFlush = (offered & F_FLUSH) != 0;
  // The device starts again from index 0 in both rings (§2.7): so does the driver.
  virtioZero(PRIV + PRIV_AVAIL, 4 + 2 * VQ_SIZE + 4);
  virtioZero(PRIV + PRIV_USED, 4 + 8 * VQ_SIZE + 4);
  availIdx = 0;
  lastUsed = 0;
  inflight = 0;
  if (!virtioSetupQueue(MMIO, 0, VQ_SIZE, privPa + PRIV_DESC, privPa + PRIV_AVAIL, privPa + PRIV_USED)) {
    fail('queue too small');
    virtioFailed(MMIO);
    return false;
  }
  // Ring descriptor i always points at indirect table i (header, data, status).
  for (let i = 0; i < VQ_SIZE; i++) {
    const d = PRIV + PRIV_DESC + 16 * i;
    poke(d, privPa + PRIV_INDIRECT + 48 * i);
    poke(d + 4, 0);
    poke(d + 8, 48);
    poke(d + 12, D_INDIRECT);
    const t = PRIV + PRIV_INDIRECT + 48 * i;
    poke(t, privPa + PRIV_HDR + 16 * i);
    poke(t + 4, 0);
    poke(t + 8, 16);
    poke(t + 12, D_NEXT | (1 << 16));
    poke(t + 20, 0); // data buffer address, high word (DRAM is below 4 GiB)
    poke(t + 32, privPa + PRIV_STATUS + 4 * i);
    poke(t + 36, 0);
    poke(t + 40, 1);
    poke(t + 44, D_WRITE);
    // Header words that never change: reserved, and the sector's high word (disks below 2 TiB).
    poke(PRIV + PRIV_HDR + 16 * i + 4, 0);
    poke(PRIV + PRIV_HDR + 16 * i + 12, 0);
    unchecked(freeSlots[i] = VQ_SIZE - 1 - i);
  }
  freeCount = VQ_SIZE;
  virtioDriverOk(MMIO);
  return true;
}

/** Check a request of client k against its virtual device and data frame. */
function check(k: i32, op: i32, sector: u32, count: u32, offset: u32): i32 {
  if (k < 1 || k > MAX_CLIENTS || unchecked(clFlags[k]) == 0 || unchecked(clDataBytes[k]) == 0) return BLK_S_DENIED;
  if (op == BLK_OP_FLUSH) return canFlush ? BLK_S_OK : BLK_S_UNSUPP;
  if (op != BLK_OP_READ && op != BLK_OP_WRITE) return BLK_S_UNSUPP;
  if (count == 0 || count > <u32>BLK_MAX_SECTORS) return BLK_S_DENIED;
  if (count > unchecked(clSectors[k]) || sector > unchecked(clSectors[k]) - count) return BLK_S_DENIED;
  const bytes = count * 512;
  if ((offset & 511) != 0 || bytes > unchecked(clDataBytes[k]) || offset > unchecked(clDataBytes[k]) - bytes) return BLK_S_DENIED;
  if (op == BLK_OP_WRITE && (clFlags[k] & CLF_WRITE) == 0) return BLK_S_DENIED;
  return BLK_S_OK;
}

/** Put a checked request on the virtqueue (not yet published: runBatch publishes the batch's
 *  available index once, then notifies). */
function submit(owner: i32, id: i32, k: i32, op: i32, sector: u32, count: u32, offset: u32): void {
  const slot = unchecked(freeSlots[--freeCount]);
  unchecked(slotOwner[slot] = owner);
  unchecked(slotId[slot] = id);
  unchecked(slotOp[slot] = op);
  const h = PRIV + PRIV_HDR + 16 * slot;
  const t = PRIV + PRIV_INDIRECT + 48 * slot;
  poke(PRIV + PRIV_STATUS + 4 * slot, 0xff);
  if (op == BLK_OP_FLUSH) {
    poke(h, T_FLUSH);
    poke(h + 8, 0);
    poke(t + 12, D_NEXT | (2 << 16)); // header -> status
  } else {
    poke(h, op == BLK_OP_READ ? T_IN : T_OUT);
    poke(h + 8, <i32>(clBase[k] + sector));
    let pa = unchecked(clDataPa[k]) + <i32>offset;
    if (evilPending) {
      // The misbehaving variant: a buffer below the client's frame, outside every window.
      evilPending = false;
      pa = unchecked(clDataPa[k]) - 0x10_0000;
      console.log('blk: (evil variant) programming DMA to 0x' + (<u32>pa).toString(16) + ', outside the windows');
      if ((flags & DRV_F_EVIL_RESET) != 0) evilStatus(t, pa + <i32>(count * 512));
    }
    poke(t + 12, D_NEXT | (1 << 16));
    poke(t + 16, pa);
    poke(t + 24, <i32>(count * 512));
    poke(t + 28, D_NEXT | (op == BLK_OP_READ ? D_WRITE : 0) | (2 << 16));
  }
  poke16(PRIV + PRIV_AVAIL + 4 + 2 * (availIdx & (VQ_SIZE - 1)), slot);
  availIdx = (availIdx + 1) & 0xffff;
  inflight++;
}

function respond(k: i32, id: i32, op: i32, status: i32): void {
  const e = ringEntry(RINGS + k * 4096, unchecked(rspProdPvt[k]));
  poke(e + RSP_ID, id);
  poke(e + RSP_OP, op);
  poke(e + RSP_STATUS, status);
  unchecked(rspProdPvt[k] = unchecked(rspProdPvt[k]) + 1);
  unchecked(rspDirty[k] = true);
}

function complete(slot: i32, status: i32): void {
  inflight--;
  unchecked(freeSlots[freeCount++] = slot);
  const owner = unchecked(slotOwner[slot]);
  if (verbose && status != 0) console.log('blk: request failed on the device: status ' + status.toString());
  if (owner == 0) {
    syncDone = true;
    syncStatus = status;
  } else {
    respond(owner, unchecked(slotId[slot]), unchecked(slotOp[slot]), status);
  }
}

/** Push the responses of every client that has new ones; signal those that asked for it. */
function publishResponses(): void {
  for (let k = 1; k <= maxK; k++) {
    if (!unchecked(rspDirty[k])) continue;
    unchecked(rspDirty[k] = false);
    if (!unchecked(clRing[k])) continue;
    const notify = ringPushResponses(RINGS + k * 4096, unchecked(rspProdPvt[k]), unchecked(rspPublished[k]));
    unchecked(rspPublished[k] = unchecked(rspProdPvt[k]));
    if (notify) sysSend(clNtfn[k], 0, 0, 0, 0, 0, 0);
  }
}

function usedIdx(): i32 { return peek16(PRIV + PRIV_USED + 2); }

function harvest(): void {
  const u = usedIdx();
  while (lastUsed != u) {
    const slot = peek(PRIV + PRIV_USED + 4 + 8 * (lastUsed & (VQ_SIZE - 1)));
    lastUsed = (lastUsed + 1) & 0xffff;
    if (slot < 0 || slot >= VQ_SIZE) { fail('device returned a bad id'); continue; }
    complete(slot, peek(PRIV + PRIV_STATUS + 4 * slot) & 0xff);
  }
}

/** Notify the device, then wait (interrupts) until nothing is in flight. */
function runBatch(): void {
  poke(PRIV + PRIV_AVAIL, availIdx << 16); // flags 0, idx: the whole batch at once
  setReg(R_QUEUE_NOTIFY, 0);
  while (inflight > 0) {
    harvest();
    if (inflight == 0) break;
    // EVENT_IDX: one interrupt when the last request of the batch completes.
    poke16(PRIV + PRIV_AVAIL + 4 + 2 * VQ_SIZE, (availIdx - 1) & 0xffff);
    if (usedIdx() != lastUsed) continue;
    sysRecv(irqNtfn, 0, 0, 0, 0, 0, 0);
    const isr = reg(R_ISR);
    setReg(R_ISR_ACK, isr);
    sysInvoke(irqSlot, M_IRQ_ACK, 0, 0, 0, 0, 0);
    if ((isr & 2) != 0 && virtioNeedsReset(MMIO)) deviceError('device needs reset (DEVICE_NEEDS_RESET)');
  }
  publishResponses();
}

// ---- device errors (docs/DRIVERS.md "Device errors and reset") -------------------------------

/** Resets in a row after which the driver gives up on its device. */
const MAX_RESETS = 3;
let resetsInARow = 0;
let resets = 0;
const slotFree = new StaticArray<bool>(VQ_SIZE);
const told = new StaticArray<bool>(MAX_CLIENTS + 1);

/** The evil variant with DRV_F_EVIL_RESET: the status byte outside the windows as well, so the
 *  device cannot report the refused buffer: a device error (DEVICE_NEEDS_RESET). The slot's
 *  status descriptor is laid out afresh when the device is re-initialised. */
function evilStatus(t: i32, pa: i32): void {
  poke(t + 32, pa);
  console.log('blk: (evil variant) status byte at 0x' + (<u32>pa).toString(16) + ', outside the windows');
}

/**
 * The device failed (virtio 1.2 §2.1.2 DEVICE_NEEDS_RESET): reset it (§2.4), complete every
 * request it held with BLK_S_IOERR (the synchronous caller's status, ring responses with a
 * signal to each ring client that had one), then initialise it again (§3.1.1) on the same
 * private frame; DMA windows, connections and rings are the driver's and stay. After MAX_RESETS
 * resets with no request completed in between, it gives up: the device is left FAILED and the
 * driver stops.
 */
function deviceError(why: string): void {
  resets++;
  resetsInARow = virtioResetsInARow(resetsInARow, lastUsed != 0);
  console.log('blk: ' + why + ': resetting the device (reset ' + resets.toString() + ', ' + resetsInARow.toString() +
    ' in a row), failing ' + inflight.toString() + ' request(s) in flight with an I/O error');
  virtioReset(MMIO);
  // The slots not on the free list are the requests the device held.
  for (let i = 0; i < VQ_SIZE; i++) unchecked(slotFree[i] = false);
  for (let i = 0; i < freeCount; i++) unchecked(slotFree[unchecked(freeSlots[i])] = true);
  for (let k = 0; k <= MAX_CLIENTS; k++) unchecked(told[k] = false);
  for (let i = 0; i < VQ_SIZE; i++) {
    if (unchecked(slotFree[i])) continue;
    unchecked(told[unchecked(slotOwner[i])] = true);
    complete(i, BLK_S_IOERR);
  }
  publishResponses();
  for (let k = 1; k <= maxK; k++) if (unchecked(told[k]) && unchecked(clRing[k]) && unchecked(clNtfn[k]) != 0) sysSend(clNtfn[k], 0, 0, 0, 0, 0, 0);
  if (resetsInARow > MAX_RESETS) {
    fail('device failed ' + resetsInARow.toString() + ' times in a row without completing a request: giving up, no longer serving');
    virtioFailed(MMIO);
    return;
  }
  if (startDevice() && verbose) console.log('blk: device re-initialised, serving again');
}

function disconnect(k: i32, why: string): void {
  console.log('blk: client ' + k.toString() + ': ' + why + '; ring disconnected');
  unchecked(clRing[k] = false);
}

/** Take requests from every ring (at most a fair share each); returns how many went to the device. */
function pollRings(): i32 {
  let submitted = 0;
  for (let k = 1; k <= maxK; k++) {
    if (!unchecked(clRing[k]) || unchecked(clFlags[k]) == 0) continue;
    const ring = RINGS + k * 4096;
    const n = ringRequestsAvailable(ring, unchecked(reqCons[k]), unchecked(rspProdPvt[k]));
    if (n < 0) { disconnect(k, 'impossible request producer index'); continue; }
    let take = n;
    const share = VQ_SIZE / 2;
    if (take > share) take = share;
    // What check() looks up about client k is the driver's own (never on the shared page):
    // read it once per batch. Every request's own fields are still checked one by one.
    const sectors = unchecked(clSectors[k]);
    const dataBytes = unchecked(clDataBytes[k]);
    const canWrite = (unchecked(clFlags[k]) & CLF_WRITE) != 0;
    let cons = unchecked(reqCons[k]);
    for (let i = 0; i < take; i++) {
      if (freeCount == 0) break;
      // Copy the request out of the shared page once, then check the copy.
      const e = ringEntry(ring, cons);
      const id = peek(e + REQ_ID);
      const opw = peek(e + REQ_OP);
      const sector = <u32>peek(e + REQ_SECTOR);
      const offset = <u32>peek(e + REQ_OFFSET);
      cons++;
      const op = opw & 0xff;
      const count = <u32>((opw >> 8) & 0xff);
      // check() for a connected ring client (k valid, flags set), its values hoisted above.
      let st = BLK_S_OK;
      if (op == BLK_OP_READ || (op == BLK_OP_WRITE && canWrite)) {
        if (dataBytes == 0 || count == 0 || count > <u32>BLK_MAX_SECTORS || count > sectors || sector > sectors - count) st = BLK_S_DENIED;
        else {
          const bytes = count * 512;
          if ((offset & 511) != 0 || bytes > dataBytes || offset > dataBytes - bytes) st = BLK_S_DENIED;
        }
      } else {
        st = check(k, op, sector, count, offset);
      }
      if (st != BLK_S_OK) { respond(k, id, op, st); continue; }
      submit(k, id, k, op, sector, count, offset);
      submitted++;
    }
    unchecked(reqCons[k] = cons);
  }
  return submitted;
}

/** The type of the capability in our slot `s` (0 = empty), and its rights in res(2). */
function identify(s: i32): i32 {
  if (sysInvoke(SLOT_TASK, M_CAP_IDENTIFY, s, 0, 0, 0, 0) != 0) return 0;
  return res(1);
}

/** BLK_OP_CONNECT from client k with `n` capabilities at DRV_STAGE_SLOT: data frame,
 *  notification, ring frame (optional). Checks them, keeps them, opens DMA window k. */
function connect(k: i32, n: i32): i32 {
  if (k < 1 || k > MAX_CLIENTS || !unconnected[k] || n < 1) return BLK_S_DENIED;
  const st = DRV_STAGE_SLOT;
  if (identify(st) != OBJ_FRAME || (res(2) & 3) != 3) return BLK_S_DENIED;
  // A synchronous client may send its data frame alone (no notification: nothing to signal).
  if (n >= 2 && (identify(st + 1) != OBJ_NOTIFICATION || (res(2) & RIGHT_WRITE) == 0)) return BLK_S_DENIED;
  if (n == 3) {
    if (identify(st + 2) != OBJ_FRAME || (res(2) & 3) != 3) return BLK_S_DENIED;
    sysInvoke(st + 2, M_FRAME_INFO, 0, 0, 0, 0, 0);
    if (res(2) != 1) return BLK_S_DENIED; // a ring is one page
  }
  const base = DRV_CONN_SLOT + 4 * k;
  for (let i = 0; i < n; i++) {
    if (sysInvoke(SLOT_TASK, M_CAP_MOVE, st + i, base + i, 0, 0, 0) != 0) return BLK_S_DENIED;
  }
  if (sysInvoke(dmaSlot, M_DMA_SET_WINDOW, k, base, DMA_READ | DMA_WRITE, 0, 0) != 0) return BLK_S_DENIED;
  sysInvoke(base, M_FRAME_INFO, 0, 0, 0, 0, 0);
  unchecked(clDataPa[k] = res(1));
  unchecked(clDataBytes[k] = <u32>res(2) * 4096);
  unchecked(clNtfn[k] = n >= 2 ? base + 1 : 0);
  if (n == 3) {
    if (sysInvoke(base + 2, M_FRAME_MAP, SLOT_TASK, RINGS + k * 4096, 3, 0, 0) != 0) return BLK_S_DENIED;
    reqCons[k] = 0;
    rspProdPvt[k] = 0;
    rspPublished[k] = 0;
    unchecked(clRing[k] = true);
  }
  unconnected[k] = false;
  if (verbose) console.log('blk: client ' + k.toString() + ' connected' + (n == 3 ? ' with a ring' : ''));
  return BLK_S_OK;
}

/** Drop capabilities left in the staging slots (sent with anything but a good CONNECT). */
function clearStage(): void {
  for (let i = 0; i < 3; i++) if (identify(DRV_STAGE_SLOT + i) != 0) sysInvoke(SLOT_TASK, M_CAP_DELETE, DRV_STAGE_SLOT + i, 0, 0, 0, 0);
}

export function main(): i32 {
  if (!init()) return 1;
  poke(UTCB + UTCB_RECV_SLOT, DRV_STAGE_SLOT);
  let replyPending = false;
  let r0 = 0, r1 = 0, r2 = 0;
  while (!failed) {
    if (pollRings() > 0) {
      if (replyPending) { sysReply(0, msgInfo(0, 3), r0, r1, r2, 0, 0); replyPending = false; }
      runBatch();
      continue;
    }
    publishResponses(); // responses to refused requests
    let more = false;
    for (let k = 1; k <= maxK; k++) {
      if (clRing[k] && unchecked(clFlags[k]) != 0 && ringFinalCheckRequests(RINGS + k * 4096, unchecked(reqCons[k]))) more = true;
    }
    if (more) continue;
    let err = 0;
    if (replyPending) {
      err = sysReplyRecv(epSlot, msgInfo(0, 3), r0, r1, r2, 0, 0);
      replyPending = false;
    } else {
      err = sysRecv(epSlot, 0, 0, 0, 0, 0, 0);
    }
    if (err != 0) continue;
    const info = res(1);
    const label = msgLabel(info);
    const k = res(6);
    const ncaps = msgCaps(info);
    const m0 = res(2), m1 = res(3), m2 = res(4);
    if (label == BLK_KICK) { if (ncaps != 0) clearStage(); continue; }
    replyPending = true;
    r1 = 0;
    r2 = 0;
    if (label == BLK_OP_CONNECT) {
      r0 = connect(k, ncaps);
      if (ncaps != 0) clearStage();
      if (r0 == BLK_S_OK) {
        r1 = <i32>unchecked(clSectors[k]);
        r2 = (unchecked(clFlags[k]) & CLF_WRITE) != 0 ? 1 : 0;
      }
      continue;
    }
    if (ncaps != 0) clearStage();
    if (label == BLK_OP_INFO) {
      const ok = k >= 1 && k <= MAX_CLIENTS && unchecked(clFlags[k]) != 0;
      r0 = ok ? BLK_S_OK : BLK_S_DENIED;
      r1 = ok ? <i32>unchecked(clSectors[k]) : 0;
      r2 = ok && (clFlags[k] & CLF_WRITE) != 0 ? 1 : 0;
      continue;
    }
    const sector = <u32>m0;
    const count = <u32>m1;
    const offset = <u32>m2;
    r0 = check(k, label, sector, count, offset);
    if (r0 != BLK_S_OK) continue;
    syncDone = false;
    submit(0, 0, k, label, sector, count, offset);
    runBatch();
    r0 = syncDone ? syncStatus : BLK_S_IOERR;
  }
  // Stopped (the device gave up): the synchronous caller still gets its answer.
  if (replyPending) sysReply(0, msgInfo(0, 3), r0, r1, r2, 0, 0);
  return 2;
}
