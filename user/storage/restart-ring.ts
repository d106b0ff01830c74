// ring-writer: the ring client of the driver-restart test (manifests/blk-restart.json,
// tests/io/blk-restart.test.ts; docs/DRIVERS.md "Driver restart"). It connects like ring-client
// (ring.ts) with a 16-page data frame, its notification and a ring page, then for each of
// ROUNDS rounds puts BATCH writes of 4 KiB blocks (a pattern each, from pages 0..7 of the frame)
// on the ring, waits for their responses, reads the blocks back into pages 8..15 the same way
// and compares; then reads every block again. The driver crashes once meanwhile; the restarted
// driver finds the ring and takes again what the dead one had taken and not answered: the client
// does nothing about it and must see every response, each OK.
import { peek } from '../lib/l4';
import { print, setConsoleTag } from '../lib/console';
import { BLK_OP_WRITE, BLK_OP_READ, BLK_S_OK, RSP_ID, RSP_STATUS } from '../lib/io-proto';
import { REGION, connectRing, queue as queueRequest, push, nextResponse, requestCount, responseCount, writable } from './ring-client';

const ROUNDS: u32 = 6;
const BATCH: u32 = 8;
/** Word i of block b (tests/io/blk-restart.test.ts checks the host image). */
const SEED: u32 = 0x52494e47; // "RING"

function pattern(b: u32, i: u32): u32 { return (SEED ^ ((b * 1024 + i) * 0x9e3779b1)) >>> 0; }

/** Status per request id (0..BATCH-1) of the current batch; -1 = no response yet. */
const status = new StaticArray<i32>(BATCH);

/** Queue request `id`: 8 sectors from `sector` to or from byte `offset` of the data frame. */
function queue(id: i32, op: i32, sector: u32, offset: u32): void {
  queueRequest(id, op, sector, 8, <i32>offset);
}

/** Publish the batch, kick if asked to, and wait for BATCH responses; false unless each of the
 *  batch's ids was answered exactly once, OK. */
function batch(): bool {
  for (let i: u32 = 0; i < BATCH; i++) unchecked(status[i] = -1);
  push();
  let ok = true;
  for (let n: u32 = 0; n < BATCH; n++) {
    const e = nextResponse();
    const id = peek(e + RSP_ID);
    const st = peek(e + RSP_STATUS);
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
  if (!connectRing(2 * BATCH, false)) return 1;
  if (!writable) { print('the device is read-only'); return 1; }
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
    again.toString() + ' read again; ' + requestCount().toString() + ' requests, ' + responseCount().toString() + ' responses');
  print(ok ? 'ring-writer test passed' : 'ring-writer test FAILED');
  return ok ? 0 : 1;
}
