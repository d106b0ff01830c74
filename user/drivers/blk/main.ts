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
  M_CAP_MOVE, M_CAP_DELETE, M_CAP_IDENTIFY, msgCaps, UTCB, UTCB_RECV_SLOT, OBJ_NOTIFICATION, OBJ_FRAME, RIGHT_WRITE, log,
} from '../util';
import {
  START_VA, MMIO_VA, PRIV_VA, RINGS_VA, CFG_MAGIC, CFG_MAGIC_BLK, CFG_ENDPOINT, CFG_IRQ, CFG_IRQ_NTFN, CFG_DMA,
  CFG_PRIV_FRAME, CFG_FLAGS, CFG_NCLIENTS, CFG_MMIO, CFG_CLIENTS, CLIENT_WORDS, CL_FLAGS, CL_BASE, CL_SECTORS,
  CL_DATA_FRAME, CL_DATA_BYTES, CL_NTFN, CL_RING, MAX_CLIENTS, CLF_PRESENT, CLF_WRITE, DRV_F_EVIL_DMA,
  DRV_F_VERBOSE, DRV_F_EVIL_RESET, VQ_SIZE, PRIV_DESC, PRIV_AVAIL, PRIV_USED, PRIV_INDIRECT, PRIV_HDR, PRIV_STATUS,
  BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_INFO, BLK_KICK, BLK_MAX_SECTORS, BLK_S_OK, BLK_S_IOERR,
  BLK_S_UNSUPP, BLK_S_DENIED, BLK_WHOLE_DISK, BLK_OP_CONNECT, DRV_STAGE_SLOT, DRV_CONN_SLOT, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET, RSP_ID, RSP_OP, RSP_STATUS,
  RING_REQ_PROD, RING_RSP_PROD, RING_SIZE,
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
let verbose = false;
let epSlot = 0;
let irqSlot = 0;
let irqNtfn = 0;
let privPa = 0;
let capacity: u32 = 0;
let deviceRo = false;
let canFlush = false;

// The driver's tables are unmanaged records in static memory (`@unmanaged`, `memory.data`), not
// garbage-collected arrays: the request path reads and writes them with plain loads and stores.
// With AssemblyScript's incremental collector every managed reference a function loads is also
// written to the collector's shadow stack, which cost the request path about 200 emulated
// instructions per request (docs/DRIVERS.md "Cost per request").

/** Client k's virtual block device and ring state (k = 1..MAX_CLIENTS; record 0 unused). */
@unmanaged class Client {
  flags: i32; // CLF_*; 0 = no device
  base: u32; // first disk sector of the device
  sectors: u32;
  dataPa: i32; // physical address of the client's data frame (its DMA window)
  dataBytes: u32; // its size; 0 = not connected
  ntfn: i32; // slot: the client's notification (ring responses)
  reqCons: u32; // the driver's own ring indices (never read back from the shared page)
  rspProdPvt: u32;
  rspPublished: u32;
  ring: bool; // has a ring page at RINGS_VA + k * 0x1000
  dirty: bool; // responses not yet published
  unconnected: bool; // waiting for BLK_OP_CONNECT
}
const CLIENT_BYTES = (offsetof<Client>() + 7) & ~7; // records stay word-aligned
const CLIENTS: usize = memory.data(CLIENT_BYTES * (MAX_CLIENTS + 1), 8);
@inline function cl(k: i32): Client { return changetype<Client>(CLIENTS + <usize>(k * CLIENT_BYTES)); }

/** What a virtqueue slot (one request in flight) belongs to. */
@unmanaged class Slot {
  owner: i32; // client number; 0 = the synchronous request
  id: i32; // the ring request's id
  op: i32;
}
const SLOT_BYTES = (offsetof<Slot>() + 3) & ~3;
const SLOTS: usize = memory.data(SLOT_BYTES * VQ_SIZE, 8);
@inline function slot_(i: i32): Slot { return changetype<Slot>(SLOTS + <usize>(i * SLOT_BYTES)); }
/** Free virtqueue slots: a stack of freeCount slot numbers. */
const FREE: usize = memory.data(4 * VQ_SIZE, 8);
let freeCount = 0;
@inline function popFree(): i32 { return load<i32>(FREE + (<usize>(--freeCount) << 2)); }
@inline function pushFree(slot: i32): void { store<i32>(FREE + (<usize>(freeCount++) << 2), slot); }

// The virtqueue.
let availIdx = 0; // u16, free-running
let lastUsed = 0; // u16
let inflight = 0;
let syncDone = false;
let syncStatus = 0;
let evilPending = false;
let failed = false;
/** A previous incarnation's connections were found at start (docs/DRIVERS.md "Driver restart"). */
let restarted = false;
/** The crash variant (user/drivers/blk/crashy.ts): requests left before the first incarnation
 *  crashes; 0 = never. Rides on evilPending, so the request path pays nothing for it. */
let crashLeft = 0;
let lastWasSync = false;
const CRASH_TAKEN = 3;

/** The crash variant: crash (`unreachable`) from the n-th request on, while taking ring
 *  requests (evilBuffer), in the first incarnation only (a restart finds the connections and
 *  disarms it). Call before main(). */
export function crashAfterRequests(n: i32): void {
  crashLeft = n;
}
/** Highest configured client number: the loops over clients stop there. */
let maxK = 0;
/** Clients with a connected ring, and whether any client has unpublished responses: a driver
 *  serving only synchronous clients skips the ring scans (the synchronous path pays nothing
 *  for the rings it does not use). */
let rings = 0;
let anyDirty = false;

function fail(why: string): void {
  log('blk: ' + why);
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
    cl(k).flags = 0;
    if (k > n || (clCfg(k, CL_FLAGS) & CLF_PRESENT) == 0) continue;
    const frame = clCfg(k, CL_DATA_FRAME);
    if (frame == 0) {
      // Connects at run time (BLK_OP_CONNECT): known device, no frames yet.
      cl(k).flags = clCfg(k, CL_FLAGS);
      cl(k).base = <u32>clCfg(k, CL_BASE);
      cl(k).sectors = <u32>clCfg(k, CL_SECTORS);
      cl(k).dataBytes = 0;
      cl(k).ring = false;
      cl(k).unconnected = true;
      maxK = k;
      if (recover(k)) restarted = true;
      continue;
    }
    e = sysInvoke(dma, M_DMA_SET_WINDOW, k, frame, DMA_READ | DMA_WRITE, 0, 0);
    if (e != 0) { fail('client ' + k.toString() + ': cannot open its DMA window: error ' + e.toString()); continue; }
    cl(k).flags = clCfg(k, CL_FLAGS);
    cl(k).base = <u32>clCfg(k, CL_BASE);
    cl(k).sectors = <u32>clCfg(k, CL_SECTORS);
    cl(k).dataPa = info(frame);
    cl(k).dataBytes = <u32>clCfg(k, CL_DATA_BYTES);
    cl(k).ntfn = clCfg(k, CL_NTFN);
    cl(k).ring = clCfg(k, CL_RING) != 0;
    if (cl(k).ring) rings++;
    maxK = k;
  }
  // Started from a boot plan, the root task has bound the IRQ to the notification already.
  if (START_ARG == 0) {
    e = sysInvoke(irqSlot, M_IRQ_SET_NTFN, irqNtfn, 0, 0, 0, 0);
    if (e != 0) { fail('cannot bind the IRQ: error ' + e.toString()); return false; }
  }

  if (restarted) {
    // A previous incarnation may have died between an interrupt and its acknowledgement: the
    // IRQ would stay masked (IrqAck refuses with IllegalState when nothing is pending).
    sysInvoke(irqSlot, M_IRQ_ACK, 0, 0, 0, 0, 0);
    crashLeft = 0;
  }
  if (crashLeft > 0) evilPending = true;
  if (!virtioProbe(MMIO, 2)) { fail('no virtio-blk device'); return false; }
  if (!startDevice()) return false;
  capacity = <u32>reg(R_CONFIG); // low word of le64 capacity (disks below 2 TiB)
  for (let k = 1; k <= maxK; k++) {
    if (cl(k).flags == 0) continue;
    if (cl(k).sectors == <u32>BLK_WHOLE_DISK) cl(k).sectors = cl(k).base < capacity ? capacity - cl(k).base : 0;
    if (cl(k).sectors > capacity || cl(k).base > capacity - cl(k).sectors) {
      fail('client ' + k.toString() + ': virtual block device [' + cl(k).base.toString() + ', ' + (<u64>cl(k).base + <u64>cl(k).sectors).toString() +
        ') is beyond the disk (' + capacity.toString() + ' sectors): the manifest does not fit this disk');
      cl(k).flags = 0;
    }
    if (deviceRo) cl(k).flags = cl(k).flags & ~CLF_WRITE;
  }
  if (verbose) log('blk: ready, ' + capacity.toString() + ' sectors');
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
  // Ring descriptor i always points at indirect table i (header, data, status). Every slot is
  // free (after a reset, deviceError has completed what the device held).
  freeCount = 0;
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
    pushFree(VQ_SIZE - 1 - i);
  }
  virtioDriverOk(MMIO);
  return true;
}

/** Check a request of client k against its virtual device and data frame. */
@inline function check(k: i32, op: i32, sector: u32, count: u32, offset: u32): i32 {
  if (k < 1 || k > MAX_CLIENTS || cl(k).flags == 0 || cl(k).dataBytes == 0) return BLK_S_DENIED;
  if (op == BLK_OP_FLUSH) return canFlush ? BLK_S_OK : BLK_S_UNSUPP;
  if (op != BLK_OP_READ && op != BLK_OP_WRITE) return BLK_S_UNSUPP;
  if (count == 0 || count > <u32>BLK_MAX_SECTORS) return BLK_S_DENIED;
  if (count > cl(k).sectors || sector > cl(k).sectors - count) return BLK_S_DENIED;
  const bytes = count * 512;
  if ((offset & 511) != 0 || bytes > cl(k).dataBytes || offset > cl(k).dataBytes - bytes) return BLK_S_DENIED;
  if (op == BLK_OP_WRITE && (cl(k).flags & CLF_WRITE) == 0) return BLK_S_DENIED;
  return BLK_S_OK;
}

/** Put a checked request on the virtqueue (not yet published: runBatch publishes the batch's
 *  available index once, then notifies). */
@inline function submit(owner: i32, id: i32, k: i32, op: i32, sector: u32, count: u32, offset: u32): void {
  const slot = popFree();
  slot_(slot).owner = owner;
  slot_(slot).id = id;
  slot_(slot).op = op;
  const h = PRIV + PRIV_HDR + 16 * slot;
  const t = PRIV + PRIV_INDIRECT + 48 * slot;
  poke(PRIV + PRIV_STATUS + 4 * slot, 0xff);
  if (op == BLK_OP_FLUSH) {
    poke(h, T_FLUSH);
    poke(h + 8, 0);
    poke(t + 12, D_NEXT | (2 << 16)); // header -> status
  } else {
    poke(h, op == BLK_OP_READ ? T_IN : T_OUT);
    poke(h + 8, <i32>(cl(k).base + sector));
    let pa = cl(k).dataPa + <i32>offset;
    if (evilPending) pa = evilBuffer(k, t, count, pa);
    poke(t + 12, D_NEXT | (1 << 16));
    poke(t + 16, pa);
    poke(t + 24, <i32>(count * 512));
    poke(t + 28, D_NEXT | (op == BLK_OP_READ ? D_WRITE : 0) | (2 << 16));
  }
  poke16(PRIV + PRIV_AVAIL + 4 + 2 * (availIdx & (VQ_SIZE - 1)), slot);
  availIdx = (availIdx + 1) & 0xffff;
  inflight++;
}

/** The misbehaving variant (DRV_F_EVIL_DMA), once: a buffer below client k's frame, outside
 *  every window. Kept out of submit(), whose string-free body needs no shadow-stack frame. */
function evilBuffer(k: i32, t: i32, count: u32, good: i32): i32 {
  if (crashLeft > 0) {
    // From the N-th request on, at the first ring request right after a synchronous one (the
    // main loop takes ring requests before it answers the synchronous call it has just done,
    // so that call is often still held), take CRASH_TAKEN ring requests and crash at the next:
    // ring requests taken and not answered, and perhaps a synchronous call unanswered.
    const sync = !cl(k).ring;
    if (crashLeft > CRASH_TAKEN + 1) crashLeft--;
    else if (crashLeft <= CRASH_TAKEN || (!sync && lastWasSync)) {
      if (!sync && --crashLeft == 0) {
        log('blk: (crash variant) crashing after taking ' + CRASH_TAKEN.toString() + ' request(s) of client ' + k.toString());
        unreachable();
      }
    }
    lastWasSync = sync;
    return good;
  }
  evilPending = false;
  const pa = cl(k).dataPa - 0x10_0000;
  log('blk: (evil variant) programming DMA to 0x' + (<u32>pa).toString(16) + ', outside the windows');
  if ((flags & DRV_F_EVIL_RESET) != 0) evilStatus(t, pa + <i32>(count * 512));
  return pa;
}

@inline function respond(k: i32, id: i32, op: i32, status: i32): void {
  const e = ringEntry(RINGS + k * 4096, cl(k).rspProdPvt);
  poke(e + RSP_ID, id);
  poke(e + RSP_OP, op);
  poke(e + RSP_STATUS, status);
  cl(k).rspProdPvt = cl(k).rspProdPvt + 1;
  cl(k).dirty = true;
  anyDirty = true;
}

function logDeviceError(status: i32): void {
  log('blk: request failed on the device: status ' + status.toString());
}

@inline function complete(slot: i32, status: i32): void {
  inflight--;
  pushFree(slot);
  const owner = slot_(slot).owner;
  if (verbose && status != 0) logDeviceError(status);
  if (owner == 0) {
    syncDone = true;
    syncStatus = status;
  } else {
    respond(owner, slot_(slot).id, slot_(slot).op, status);
  }
}

/** Push the responses of every client that has new ones; signal those that asked for it. */
function publishResponses(): void {
  anyDirty = false;
  for (let k = 1; k <= maxK; k++) {
    if (!cl(k).dirty) continue;
    cl(k).dirty = false;
    if (!cl(k).ring) continue;
    const notify = ringPushResponses(RINGS + k * 4096, cl(k).rspProdPvt, cl(k).rspPublished);
    cl(k).rspPublished = cl(k).rspProdPvt;
    if (notify) sysSend(cl(k).ntfn, 0, 0, 0, 0, 0, 0);
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
  if (anyDirty) publishResponses();
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
  log('blk: (evil variant) status byte at 0x' + (<u32>pa).toString(16) + ', outside the windows');
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
  log('blk: ' + why + ': resetting the device (reset ' + resets.toString() + ', ' + resetsInARow.toString() +
    ' in a row), failing ' + inflight.toString() + ' request(s) in flight with an I/O error');
  virtioReset(MMIO);
  // The slots not on the free list are the requests the device held.
  for (let i = 0; i < VQ_SIZE; i++) unchecked(slotFree[i] = false);
  for (let i = 0; i < freeCount; i++) unchecked(slotFree[load<i32>(FREE + (<usize>i << 2))] = true);
  for (let k = 0; k <= MAX_CLIENTS; k++) unchecked(told[k] = false);
  for (let i = 0; i < VQ_SIZE; i++) {
    if (unchecked(slotFree[i])) continue;
    unchecked(told[slot_(i).owner] = true);
    complete(i, BLK_S_IOERR);
  }
  publishResponses();
  for (let k = 1; k <= maxK; k++) if (unchecked(told[k]) && cl(k).ring && cl(k).ntfn != 0) sysSend(cl(k).ntfn, 0, 0, 0, 0, 0, 0);
  if (resetsInARow > MAX_RESETS) {
    fail('device failed ' + resetsInARow.toString() + ' times in a row without completing a request: giving up, no longer serving');
    virtioFailed(MMIO);
    return;
  }
  if (startDevice() && verbose) log('blk: device re-initialised, serving again');
}

function disconnect(k: i32, why: string): void {
  log('blk: client ' + k.toString() + ': ' + why + '; ring disconnected');
  cl(k).ring = false;
  rings--;
}

/** Take requests from every ring (at most a fair share each); returns how many went to the device. */
function pollRings(): i32 {
  let submitted = 0;
  for (let k = 1; k <= maxK; k++) {
    if (!cl(k).ring || cl(k).flags == 0) continue;
    const ring = RINGS + k * 4096;
    const n = ringRequestsAvailable(ring, cl(k).reqCons, cl(k).rspProdPvt);
    if (n < 0) { disconnect(k, 'impossible request producer index'); continue; }
    let take = n;
    const share = VQ_SIZE / 2;
    if (take > share) take = share;
    // What check() looks up about client k is the driver's own (never on the shared page):
    // read it once per batch. Every request's own fields are still checked one by one.
    const sectors = cl(k).sectors;
    const dataBytes = cl(k).dataBytes;
    const canWrite = (cl(k).flags & CLF_WRITE) != 0;
    let cons = cl(k).reqCons;
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
    cl(k).reqCons = cons;
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
  if (k < 1 || k > MAX_CLIENTS || !cl(k).unconnected || n < 1) return BLK_S_DENIED;
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
  cl(k).dataPa = res(1);
  cl(k).dataBytes = <u32>res(2) * 4096;
  cl(k).ntfn = n >= 2 ? base + 1 : 0;
  if (n == 3) {
    if (sysInvoke(base + 2, M_FRAME_MAP, SLOT_TASK, RINGS + k * 4096, 3, 0, 0) != 0) return BLK_S_DENIED;
    cl(k).reqCons = 0;
    cl(k).rspProdPvt = 0;
    cl(k).rspPublished = 0;
    cl(k).ring = true;
    rings++;
  }
  cl(k).unconnected = false;
  if (verbose) log('blk: client ' + k.toString() + ' connected' + (n == 3 ? ' with a ring' : ''));
  return BLK_S_OK;
}

/**
 * At start: does client k hold a connection a previous incarnation made (its capabilities at
 * DRV_CONN_SLOT + 4k, which the restart kept: the capability space survives, the address space
 * does not)? If so, check them as connect() does and connect the client again: DMA window k on
 * its data frame, its notification, its ring page mapped again. The ring's state comes from the
 * shared page: responses up to rsp_prod were published and are done; the requests after it, up
 * to req_prod, were taken by the dead incarnation or not yet, and none was answered, so they are
 * all taken again (block reads and writes are idempotent). rsp_prod is read once and checked
 * like a producer index: an impossible value disconnects the ring. True if any capability of a
 * connection was there (the driver is a restart).
 */
function recover(k: i32): bool {
  const base = DRV_CONN_SLOT + 4 * k;
  const tData = identify(base);
  const rData = res(2);
  const tNtfn = identify(base + 1);
  const rNtfn = res(2);
  const tRing = identify(base + 2);
  const rRing = res(2);
  if (tData == 0 && tNtfn == 0 && tRing == 0) return false;
  let ok = tData == OBJ_FRAME && (rData & 3) == 3;
  if (tNtfn != 0 && (tNtfn != OBJ_NOTIFICATION || (rNtfn & RIGHT_WRITE) == 0)) ok = false;
  if (tRing != 0) {
    if (tNtfn == 0 || tRing != OBJ_FRAME || (rRing & 3) != 3) ok = false;
    else {
      sysInvoke(base + 2, M_FRAME_INFO, 0, 0, 0, 0, 0);
      if (res(2) != 1) ok = false;
    }
  }
  if (ok && sysInvoke(dmaSlot, M_DMA_SET_WINDOW, k, base, DMA_READ | DMA_WRITE, 0, 0) != 0) ok = false;
  if (!ok) {
    // A connect the previous incarnation did not finish: the client is not connected.
    for (let i = 0; i < 3; i++) if (identify(base + i) != 0) sysInvoke(SLOT_TASK, M_CAP_DELETE, base + i, 0, 0, 0, 0);
    log('blk: restarted: client ' + k.toString() + ': an unfinished connection dropped');
    return true;
  }
  sysInvoke(base, M_FRAME_INFO, 0, 0, 0, 0, 0);
  cl(k).dataPa = res(1);
  cl(k).dataBytes = <u32>res(2) * 4096;
  cl(k).ntfn = tNtfn != 0 ? base + 1 : 0;
  cl(k).unconnected = false;
  if (tRing == 0) {
    log('blk: restarted: client ' + k.toString() + ' connected again (synchronous)');
    return true;
  }
  const ring = RINGS + k * 4096;
  if (sysInvoke(base + 2, M_FRAME_MAP, SLOT_TASK, ring, 3, 0, 0) != 0) {
    log('blk: restarted: client ' + k.toString() + ': cannot map its ring again; ring disconnected');
    return true;
  }
  const done = <u32>peek(ring + RING_RSP_PROD);
  const again = <u32>peek(ring + RING_REQ_PROD) - done;
  if (again > <u32>RING_SIZE) {
    log('blk: restarted: client ' + k.toString() + ': impossible response producer index on its ring; ring disconnected');
    return true;
  }
  cl(k).reqCons = done;
  cl(k).rspProdPvt = done;
  cl(k).rspPublished = done;
  cl(k).ring = true;
  rings++;
  log('blk: restarted: client ' + k.toString() + ' connected again with its ring: ' + again.toString() +
    ' request(s) after the last published response (' + done.toString() + ') to do');
  return true;
}

/** Drop capabilities left in the staging slots (sent with anything but a good CONNECT). */
function clearStage(): void {
  for (let i = 0; i < 3; i++) if (identify(DRV_STAGE_SLOT + i) != 0) sysInvoke(SLOT_TASK, M_CAP_DELETE, DRV_STAGE_SLOT + i, 0, 0, 0, 0);
}

export function main(): i32 {
  if (!init()) return 1;
  // Capabilities a previous incarnation received and never looked at (it died first).
  clearStage();
  poke(UTCB + UTCB_RECV_SLOT, DRV_STAGE_SLOT);
  let replyPending = false;
  let r0 = 0, r1 = 0, r2 = 0;
  while (!failed) {
    // The checks of `rings` and `anyDirty` are at the call sites: a call costs its prologue.
    if (rings != 0 && pollRings() > 0) {
      if (replyPending) { sysReply(0, msgInfo(0, 3), r0, r1, r2, 0, 0); replyPending = false; }
      runBatch();
      continue;
    }
    if (anyDirty) publishResponses(); // responses to refused requests
    let more = false;
    if (rings != 0) for (let k = 1; k <= maxK; k++) {
      if (cl(k).ring && cl(k).flags != 0 && ringFinalCheckRequests(RINGS + k * 4096, cl(k).reqCons)) more = true;
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
        r1 = <i32>cl(k).sectors;
        r2 = (cl(k).flags & CLF_WRITE) != 0 ? 1 : 0;
      }
      continue;
    }
    if (ncaps != 0) clearStage();
    if (label == BLK_OP_INFO) {
      const ok = k >= 1 && k <= MAX_CLIENTS && cl(k).flags != 0;
      r0 = ok ? BLK_S_OK : BLK_S_DENIED;
      r1 = ok ? <i32>cl(k).sectors : 0;
      r2 = ok && (cl(k).flags & CLF_WRITE) != 0 ? 1 : 0;
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
