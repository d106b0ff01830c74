// Test and benchmark client of the block driver (docs/DRIVERS.md): integrity runs through either
// interface, benchmark loops, a scribbling ring client and a probe of the driver's checks. The
// start-information page (CC_*) says what to do; main() returns 0 on success, otherwise the
// number of failures (or a step number).
//
// Data pattern of a written 4 KiB block (tests/io/rig.ts blockPattern computes the same):
// word j = mix(seed ^ block * 0x01000193 ^ write * 0x9e3779b1 ^ j * 0x85ebca6b), where `write`
// counts this client's writes from 1.

import { sysCall, sysNbSend, sysRecv, res, peek, poke, msgInfo, msgInfoCaps, UTCB, UTCB_XFER_CAP0 } from '../util';
import {
  START_VA, RINGS_VA, DATA_VA, CC_MAGIC, CFG_MAGIC_CLIENT, CC_EP, CC_NTFN, CC_MODE, CC_OPS, CC_QD, CC_SEED,
  CC_BLOCKS, CC_DATA_OFF, CC_OPKIND, CC_HAS_RING, CM_SYNC_INTEGRITY, CM_RING_INTEGRITY, CM_SYNC_BENCH,
  CM_RING_BENCH, CM_RING_SCRIBBLE, CM_SYNC_PROBE, BATCH_STRIDE, BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH,
  BLK_OP_INFO, BLK_KICK, BLK_S_OK, BLK_S_DENIED, BLK_S_UNSUPP, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET,
  RSP_ID, RSP_STATUS, CC_CONNECT, BLK_OP_CONNECT, CLIENT_DATA_SLOT, CLIENT_RING_SLOT, RING_REQ_PROD, RING_RSP_PROD, RING_RSP_EVENT, RING_REQ_EVENT, RING_SIZE,
  CC_RETRY, CC_MAX_RETRIES, BLK_S_IOERR,
} from '../../lib/io-proto';
import { ringEntry, ringInit, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../../lib/ring';

const START: i32 = <i32>START_VA;
const RING: i32 = <i32>RINGS_VA;
const DATA: i32 = <i32>DATA_VA;

function cfg(i: i32): i32 { return peek(START + 4 * i); }

let ep = 0;
let ntfn = 0;
let seed: u32 = 1;
let rng: u32 = 1;
let blocks: u32 = 1;
let dataOff = 0;
let failures = 0;

function next(): u32 {
  let s = rng;
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  rng = s;
  return s;
}

function mix(x: u32): u32 {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

function pattern(block: u32, write: u32, j: u32): i32 {
  return <i32>mix(seed ^ (block * 0x01000193) ^ (write * 0x9e3779b1) ^ (j * 0x85ebca6b));
}

function fill(buf: i32, block: u32, write: u32): void {
  for (let j: u32 = 0; j < 1024; j++) poke(buf + <i32>(j << 2), pattern(block, write, j));
}

function verify(buf: i32, block: u32, write: u32): bool {
  for (let j: u32 = 0; j < 1024; j++) {
    if (peek(buf + <i32>(j << 2)) != pattern(block, write, j)) return false;
  }
  return true;
}

function bufOffset(i: i32): i32 { return dataOff + i * 4096; }

// ---- synchronous interface ------------------------------------------------------------------

function syncOp(op: i32, sector: u32, count: u32, offset: i32): i32 {
  const e = sysCall(ep, msgInfo(op, 3), <i32>sector, <i32>count, offset, 0, 0);
  if (e != 0) return -e;
  return res(2);
}

// ---- ring interface --------------------------------------------------------------------------

let reqProdPvt: u32 = 0;
let rspCons: u32 = 0;

function queue(id: i32, op: i32, sector: u32, count: u32, offset: i32): void {
  const e = ringEntry(RING, reqProdPvt);
  poke(e + REQ_ID, id);
  poke(e + REQ_OP, op | (<i32>count << 8));
  poke(e + REQ_SECTOR, <i32>sector);
  poke(e + REQ_OFFSET, offset);
  reqProdPvt++;
}

function push(): void {
  if (ringPushRequests(RING, reqProdPvt)) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
}

/** Wait until at least one response is there; returns how many. */
function waitResponses(): u32 {
  while (true) {
    const n = ringResponsesAvailable(RING, rspCons);
    if (n != 0) return n;
    if (!ringFinalCheckResponses(RING, rspCons, 1)) sysRecv(ntfn, 0, 0, 0, 0, 0, 0);
  }
}

// ---- retrying requests that failed with an I/O error (CC_RETRY) ------------------------------

let retry = false;
let ioErrors = 0;
/** Words in static memory (zeroed in the image), indexed like an array: the bookkeeping of the
 *  integrity and retry modes. Heap arrays would be allocated and cleared when the program
 *  starts, in the benchmark modes too, which never use them (16 KiB: ~27,000 instructions per
 *  client task). */
@final @unmanaged class Words {
  @inline @operator('[]') get(i: i32): u32 { return load<u32>(changetype<usize>(this) + (<usize>i << 2)); }
  @inline @operator('[]=') set(i: i32, v: u32): void { store<u32>(changetype<usize>(this) + (<usize>i << 2), v); }
}
const versions = changetype<Words>(memory.data(4 * 4096)); // writes so far, per block
const batchBlocks = changetype<Words>(memory.data(4 * 64));
// Ring requests by id (integrity runs: ids 0..qd-1), to queue one again.
const rOp = changetype<Words>(memory.data(4 * 64));
const rSector = changetype<Words>(memory.data(4 * 64));
const rOffset = changetype<Words>(memory.data(4 * 64));
const rTries = changetype<Words>(memory.data(4 * 64));

function opName(op: i32): string {
  return op == BLK_OP_READ ? 'read' : op == BLK_OP_WRITE ? 'write' : op == BLK_OP_FLUSH ? 'flush' : 'op ' + op.toString();
}

/** A synchronous request; one answered BLK_S_IOERR is made again when CC_RETRY says so. */
function syncRetry(op: i32, sector: u32, count: u32, offset: i32): i32 {
  let st = syncOp(op, sector, count, offset);
  for (let tries = 0; retry && st == BLK_S_IOERR && tries < CC_MAX_RETRIES; tries++) {
    ioErrors++;
    console.log('client: sync ' + opName(op) + ' of sector ' + sector.toString() + ': I/O error, retrying');
    st = syncOp(op, sector, count, offset);
  }
  return st;
}

/** Queue ring request `id` (remembered, to be queued again after an I/O error). */
function queueR(id: i32, op: i32, sector: u32, count: u32, offset: i32): void {
  rOp[id] = <u32>(op | (<i32>count << 8));
  rSector[id] = sector;
  rOffset[id] = <u32>offset;
  rTries[id] = 0;
  queue(id, op, sector, count, offset);
}

/** Collect `n` ring responses to requests queued with queueR, verifying reads; a response
 *  BLK_S_IOERR queues its request again (CC_RETRY) and is not counted. */
function collect(n: i32, reads: bool): void {
  let got = 0;
  while (got < n) {
    const m = waitResponses();
    let again = false;
    for (let r: u32 = 0; r < m; r++) {
      const e = ringEntry(RING, rspCons);
      const id = peek(e + RSP_ID);
      const st = peek(e + RSP_STATUS);
      rspCons++;
      if (id < 0 || id >= n) { failures++; got++; continue; }
      if (retry && st == BLK_S_IOERR && <i32>rTries[id] < CC_MAX_RETRIES) {
        ioErrors++;
        rTries[id] = rTries[id] + 1;
        const opw = <i32>rOp[id];
        console.log('client: ring ' + opName(opw & 0xff) + ' of sector ' + rSector[id].toString() + ': I/O error, retrying');
        queue(id, opw & 0xff, rSector[id], <u32>(opw >> 8), <i32>rOffset[id]);
        again = true;
        continue;
      }
      got++;
      if (st != BLK_S_OK) failures++;
      else if (reads && !verify(DATA + bufOffset(id), batchBlocks[id], versions[batchBlocks[id]])) failures++;
    }
    if (again) push();
  }
}

// ---- modes -----------------------------------------------------------------------------------

function integrity(ring: bool, ops: i32, qd: i32): i32 {
  let writes: u32 = 0;
  let done = 0;
  // Random writes, in batches of qd distinct blocks.
  while (done < ops) {
    let n = ops - done;
    if (n > qd) n = qd;
    const b0 = next() % blocks;
    for (let i = 0; i < n; i++) {
      const block = (b0 + <u32>i * BATCH_STRIDE) % blocks;
      batchBlocks[i] = block;
      writes++;
      versions[block] = writes;
      const off = bufOffset(i);
      fill(DATA + off, block, writes);
      if (ring) queueR(i, BLK_OP_WRITE, block * 8, 8, off);
      else if (syncRetry(BLK_OP_WRITE, block * 8, 8, off) != BLK_S_OK) failures++;
    }
    if (ring) {
      push();
      collect(n, false);
    }
    done += n;
  }
  // Flush, then read every written block back and compare.
  if (ring) {
    queueR(0, BLK_OP_FLUSH, 0, 0, 0);
    push();
    collect(1, false);
  } else if (syncRetry(BLK_OP_FLUSH, 0, 0, 0) != BLK_S_OK) failures++;
  let b: u32 = 0;
  while (b < blocks) {
    let n = 0;
    while (b < blocks && n < qd) {
      if (versions[b] != 0) {
        batchBlocks[n] = b;
        if (ring) queueR(n, BLK_OP_READ, b * 8, 8, bufOffset(n));
        else {
          if (syncRetry(BLK_OP_READ, b * 8, 8, bufOffset(n)) != BLK_S_OK) failures++;
          else if (!verify(DATA + bufOffset(n), b, versions[b])) failures++;
        }
        n++;
      }
      b++;
    }
    if (ring && n > 0) {
      push();
      collect(n, true);
    }
  }
  if (ioErrors > 0) console.log('client: ' + ioErrors.toString() + ' request(s) failed with an I/O error and were retried; ' + failures.toString() + ' failure(s)');
  return failures;
}

function syncBench(ops: i32, op: i32): i32 {
  for (let i = 0; i < ops; i++) {
    const block = next() % blocks;
    if (syncOp(op, block * 8, 8, dataOff) != BLK_S_OK) failures++;
  }
  return failures;
}

function ringBench(ops: i32, qd: i32, op: i32): i32 {
  let issued = 0;
  let done = 0;
  while (done < ops) {
    let queued = false;
    while (issued - done < qd && issued < ops) {
      const block = next() % blocks;
      queue(issued, op, block * 8, 8, bufOffset(issued % qd));
      issued++;
      queued = true;
    }
    if (queued) push();
    const m = waitResponses();
    for (let r: u32 = 0; r < m; r++) {
      if (peek(ringEntry(RING, rspCons) + RSP_STATUS) != BLK_S_OK) failures++;
      rspCons++;
      done++;
    }
  }
  return failures;
}

function expectStatus(got: i32, want: i32, what: string): void {
  if (got != want) {
    console.log('client: ' + what + ': status ' + got.toString() + ', expected ' + want.toString());
    failures++;
  }
}

/** A client that breaks the ring protocol; its own malformed requests must be refused, and it
 *  must not disturb anybody else. Ends by corrupting its producer index. */
function scribble(): i32 {
  // 1. Malformed requests: each must come back refused.
  queue(1, BLK_OP_READ, blocks * 8, 8, 0); // beyond the end
  queue(2, BLK_OP_READ, 0xfffffff8, 8, 0); // wraps around
  queue(3, BLK_OP_READ, 0, 8, 0x7ffff000); // buffer outside the data frame
  queue(4, BLK_OP_READ, 0, 8, 100); // unaligned buffer
  queue(5, 99, 0, 8, 0); // unknown operation
  queue(6, BLK_OP_WRITE, 0, 200, 0); // too long
  queue(7, BLK_OP_READ, 0, 0, 0); // empty
  push();
  let got = 0;
  while (got < 7) {
    const m = waitResponses();
    for (let r: u32 = 0; r < m; r++) {
      const e = ringEntry(RING, rspCons);
      const id = peek(e + RSP_ID);
      expectStatus(peek(e + RSP_STATUS), id == 5 ? BLK_S_UNSUPP : BLK_S_DENIED, 'malformed request ' + id.toString());
      rspCons++;
      got++;
    }
  }
  // 2. One good write of its own, to show the ring still works.
  fill(DATA + dataOff, 0, 1);
  queue(8, BLK_OP_WRITE, 0, 8, dataOff);
  push();
  waitResponses();
  expectStatus(peek(ringEntry(RING, rspCons) + RSP_STATUS), BLK_S_OK, 'own write');
  rspCons++;
  // 3. Garbage in every header word and every entry, then a storm of kicks.
  poke(RING + RING_RSP_PROD, 0x7fffffff);
  poke(RING + RING_RSP_EVENT, 0x12345678);
  poke(RING + RING_REQ_EVENT, -1);
  for (let i = 0; i < RING_SIZE; i++) {
    const e = ringEntry(RING, <u32>i);
    poke(e + REQ_ID, <i32>next());
    poke(e + REQ_OP, <i32>next());
    poke(e + REQ_SECTOR, <i32>next());
    poke(e + REQ_OFFSET, <i32>next());
  }
  poke(RING + RING_REQ_PROD, <i32>(reqProdPvt + 40)); // 40 garbage requests
  for (let i = 0; i < 50; i++) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
  poke(RING + RING_REQ_PROD, <i32>(reqProdPvt + 0x4000_0000)); // impossible: the driver disconnects
  for (let i = 0; i < 50; i++) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
  // 4. The synchronous interface still answers (the driver did not crash).
  expectStatus(syncOp(BLK_OP_INFO, 0, 0, 0), BLK_S_OK, 'info after scribbling');
  return failures;
}

/** The driver's checks through the synchronous interface. */
function probe(): i32 {
  const st = syncOp(BLK_OP_INFO, 0, 0, 0);
  expectStatus(st, BLK_S_OK, 'info');
  const sectors = <u32>res(3);
  const writable = res(4);
  expectStatus(syncOp(BLK_OP_READ, 0, 8, dataOff), BLK_S_OK, 'read');
  expectStatus(syncOp(BLK_OP_READ, sectors - 4, 8, dataOff), BLK_S_DENIED, 'read across the end');
  expectStatus(syncOp(BLK_OP_READ, sectors, 1, dataOff), BLK_S_DENIED, 'read past the end');
  expectStatus(syncOp(BLK_OP_READ, 0, 1, 0x1000_0000), BLK_S_DENIED, 'buffer outside the data frame');
  expectStatus(syncOp(BLK_OP_WRITE, 0, 8, dataOff), writable != 0 ? BLK_S_OK : BLK_S_DENIED, 'write');
  expectStatus(syncOp(77, 0, 8, dataOff), BLK_S_UNSUPP, 'unknown operation');
  return failures;
}

export function main(): i32 {
  if (cfg(CC_MAGIC) != CFG_MAGIC_CLIENT) return 100;
  ep = cfg(CC_EP);
  ntfn = cfg(CC_NTFN);
  seed = <u32>cfg(CC_SEED);
  rng = seed == 0 ? 1 : seed;
  blocks = <u32>cfg(CC_BLOCKS);
  dataOff = cfg(CC_DATA_OFF);
  retry = cfg(CC_RETRY) != 0;
  if (cfg(CC_HAS_RING) != 0) ringInit(RING);
  if (cfg(CC_CONNECT) != 0) {
    // Hand the driver our data frame, our notification and (for rings) our ring page.
    const n = cfg(CC_HAS_RING) != 0 ? 3 : 2;
    // First a wrong one: an endpoint where the notification belongs (the driver would block
    // forever sending to it). It must be refused, and must not use up the connection.
    poke(UTCB + UTCB_XFER_CAP0, CLIENT_DATA_SLOT);
    poke(UTCB + UTCB_XFER_CAP0 + 4, ep);
    if (sysCall(ep, msgInfoCaps(BLK_OP_CONNECT, 0, 2), 0, 0, 0, 0, 0) != 0 || res(2) != BLK_S_DENIED) return 104;
    poke(UTCB + UTCB_XFER_CAP0, CLIENT_DATA_SLOT);
    poke(UTCB + UTCB_XFER_CAP0 + 4, ntfn);
    poke(UTCB + UTCB_XFER_CAP0 + 8, CLIENT_RING_SLOT);
    if (sysCall(ep, msgInfoCaps(BLK_OP_CONNECT, 0, n), 0, 0, 0, 0, 0) != 0 || res(2) != BLK_S_OK) return 103;
  }
  const mode = cfg(CC_MODE);
  const ops = cfg(CC_OPS);
  let qd = cfg(CC_QD);
  if (qd < 1) qd = 1;
  if (qd > 64) qd = 64;
  if (mode == CM_SYNC_INTEGRITY) return integrity(false, ops, 1);
  if (mode == CM_RING_INTEGRITY) return integrity(true, ops, qd);
  if (mode == CM_SYNC_BENCH) return syncBench(ops, cfg(CC_OPKIND));
  if (mode == CM_RING_BENCH) return ringBench(ops, qd, cfg(CC_OPKIND));
  if (mode == CM_RING_SCRIBBLE) return scribble();
  if (mode == CM_SYNC_PROBE) return probe();
  return 101;
}
