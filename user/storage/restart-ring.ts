// ring-writer: the ring client of the driver-restart test (manifests/blk-restart.json,
// tests/io/blk-restart.test.ts; docs/DRIVERS.md "Driver restart"). It connects like ring-client
// (ring.ts) with a 16-page data frame, its notification and a ring page, then for each of
// ROUNDS rounds puts BATCH writes of 4 KiB blocks (a pattern each, from pages 0..7 of the frame)
// on the ring, waits for their responses, reads the blocks back into pages 8..15 the same way
// and compares; then reads every block again. The driver crashes once meanwhile; the restarted
// driver finds the ring and takes again what the dead one had taken and not answered: the client
// does nothing about it and must see every response, each OK.
import { call, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setXferCaps, sysRecv, sysNbSend, peek, poke } from '../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../lib/gen/memory';
import { print, setConsoleTag, findService } from '../lib/console';
import {
  BLK_OP_CONNECT, BLK_OP_WRITE, BLK_OP_READ, BLK_KICK, BLK_S_OK, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET, RSP_ID, RSP_STATUS,
} from '../lib/io-proto';
import { ringEntry, ringInit, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../lib/ring';
import { ringNotificationSlot } from '../lib/startinfo';

const BLK_SLOT = 200;
const FRAME = 201;
const RING_FRAME = 202;
const REGION: u32 = 0x5000_0000;
const RING: i32 = 0x5100_0000;
const ROUNDS: u32 = 6;
const BATCH: u32 = 8;
/** Word i of block b (tests/io/blk-restart.test.ts checks the host image). */
const SEED: u32 = 0x52494e47; // "RING"

function pattern(b: u32, i: u32): u32 { return (SEED ^ ((b * 1024 + i) * 0x9e3779b1)) >>> 0; }

let ep = 0;
let ntfn = 0;
let reqProdPvt: u32 = 0;
let rspCons: u32 = 0;
/** Status per request id (0..BATCH-1) of the current batch; -1 = no response yet. */
const status = new StaticArray<i32>(BATCH);
let bad = 0;

function queue(id: i32, op: i32, sector: u32, offset: u32): void {
  const e = ringEntry(RING, reqProdPvt);
  poke(e + REQ_ID, id);
  poke(e + REQ_OP, op | (8 << 8));
  poke(e + REQ_SECTOR, <i32>sector);
  poke(e + REQ_OFFSET, <i32>offset);
  reqProdPvt++;
}

/** Publish the batch, kick if asked to, and wait for BATCH responses; false unless each of the
 *  batch's ids was answered exactly once, OK. */
function batch(): bool {
  for (let i: u32 = 0; i < BATCH; i++) unchecked(status[i] = -1);
  if (ringPushRequests(RING, reqProdPvt)) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
  let n = BATCH;
  let ok = true;
  while (n > 0) {
    if (ringResponsesAvailable(RING, rspCons) == 0) {
      if (!ringFinalCheckResponses(RING, rspCons, 1)) sysRecv(ntfn, 0, 0, 0, 0, 0, 0);
      continue;
    }
    const e = ringEntry(RING, rspCons);
    const id = peek(e + RSP_ID);
    const st = peek(e + RSP_STATUS);
    rspCons++;
    n--;
    if (id < 0 || id >= <i32>BATCH || unchecked(status[id]) != -1) { print('unexpected response: id ' + id.toString()); ok = false; continue; }
    unchecked(status[id] = st);
    if (st != BLK_S_OK) { print('request ' + id.toString() + ': status ' + st.toString()); ok = false; }
  }
  return ok;
}

/** Read blocks first..first+BATCH-1 into pages 8..15 and compare them with their patterns. */
function verify(first: u32): bool {
  for (let i: u32 = 0; i < BATCH * 1024; i++) store<u32>(REGION + BATCH * 4096 + i * 4, 0);
  for (let j: u32 = 0; j < BATCH; j++) queue(<i32>j, BLK_OP_READ, (first + j) * 8, (BATCH + j) * 4096);
  if (!batch()) return false;
  for (let j: u32 = 0; j < BATCH; j++) {
    for (let i: u32 = 0; i < 1024; i++) {
      if (load<u32>(REGION + (BATCH + j) * 4096 + i * 4) != pattern(first + j, i)) {
        print('block ' + (first + j).toString() + ' differs at word ' + i.toString());
        return false;
      }
    }
  }
  return true;
}

export function main(): i32 {
  setConsoleTag('ring-writer');
  ntfn = ringNotificationSlot('blk');
  if (ntfn == 0) { print('no ring notification for blk in the start information'); return 1; }
  ep = findService('blk', BLK_SLOT);
  if (ep <= 0) { print('lookup of blk failed: ' + ep.toString()); return 1; }
  const mem = new MemoryClient(CompSlot.Memory);
  const r = new MemoryShareAllocResult();
  mem.recvSlot = FRAME;
  let e = mem.shareAlloc(2 * BATCH, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc failed: ' + e.toString()); return 1; }
  mem.recvSlot = RING_FRAME;
  e = mem.shareAlloc(1, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc of the ring failed: ' + e.toString()); return 1; }
  e = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  if (e == 0) e = invoke(RING_FRAME, Method.FrameMap, CompSlot.Task, RING, Rights.Read | Rights.Write);
  if (e != 0) { print('cannot map the frames: ' + e.toString()); return 1; }
  ringInit(RING);
  setXferCaps(FRAME, ntfn, RING_FRAME);
  e = call(ep, msgInfo(BLK_OP_CONNECT, 0, 3));
  setXferCaps(0);
  if (e != Err.Ok || getMr(0) != BLK_S_OK || getMr(2) == 0) { print('connect refused: ' + e.toString() + '/' + getMr(0).toString()); return 1; }
  let ok = true;
  let rounds: u32 = 0;
  for (let r: u32 = 0; r < ROUNDS && ok; r++) {
    const first = r * BATCH;
    for (let j: u32 = 0; j < BATCH; j++) {
      for (let i: u32 = 0; i < 1024; i++) store<u32>(REGION + j * 4096 + i * 4, pattern(first + j, i));
      queue(<i32>j, BLK_OP_WRITE, (first + j) * 8, j * 4096);
    }
    ok = batch() && verify(first);
    if (ok) rounds++;
  }
  let again: u32 = 0;
  for (let r: u32 = 0; r < ROUNDS && ok; r++) { ok = verify(r * BATCH); if (ok) again++; }
  print(rounds.toString() + ' rounds of ' + BATCH.toString() + ' blocks written and read back through the ring, ' +
    again.toString() + ' read again; ' + (reqProdPvt).toString() + ' requests, ' + rspCons.toString() + ' responses');
  print(ok ? 'ring-writer test passed' : 'ring-writer test FAILED');
  return ok ? 0 : 1;
}
