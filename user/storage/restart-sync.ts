// sync-writer: the synchronous client of the driver-restart test (manifests/blk-restart.json,
// tests/io/blk-restart.test.ts; docs/DRIVERS.md "Driver restart"). It connects like storage
// (client.ts: a 4-page data frame from its quota), then for each of ROUNDS 4 KiB blocks of its
// virtual device writes a pattern, reads it back into another page and compares; then reads
// every block again and compares. The driver crashes once meanwhile: a call it held comes back
// Err.Aborted and client.ts's blk() makes it again, to the restarted driver.
import { print, setConsoleTag } from '../lib/console';
import { BLK_OP_WRITE, BLK_OP_READ, BLK_OP_FLUSH, BLK_S_OK } from '../lib/io-proto';
import { connect, blk, abortedCalls, REGION, writable } from './client';

const ROUNDS: u32 = 24;
/** Word i of block b (tests/io/blk-restart.test.ts checks the host image). */
const SEED: u32 = 0x53594e43; // "SYNC"

function pattern(b: u32, i: u32): u32 { return (SEED ^ ((b * 1024 + i) * 0x9e3779b1)) >>> 0; }

/** Read block b into the second page and compare it with its pattern. */
function verify(ep: i32, b: u32): bool {
  for (let i: u32 = 0; i < 1024; i++) store<u32>(REGION + 4096 + i * 4, 0);
  const st = blk(ep, BLK_OP_READ, <i32>(b * 8), 8, 4096);
  if (st != BLK_S_OK) { print('read of block ' + b.toString() + ': status ' + st.toString()); return false; }
  for (let i: u32 = 0; i < 1024; i++) {
    if (load<u32>(REGION + 4096 + i * 4) != pattern(b, i)) { print('block ' + b.toString() + ' differs at word ' + i.toString()); return false; }
  }
  return true;
}

export function main(): i32 {
  setConsoleTag('sync-writer');
  const ep = connect();
  if (ep == 0 || !writable) { print('sync-writer test FAILED (not connected read-write)'); return 1; }
  let ok = true;
  let written: u32 = 0;
  for (let b: u32 = 0; b < ROUNDS; b++) {
    for (let i: u32 = 0; i < 1024; i++) store<u32>(REGION + i * 4, pattern(b, i));
    const st = blk(ep, BLK_OP_WRITE, <i32>(b * 8), 8, 0);
    if (st != BLK_S_OK) { print('write of block ' + b.toString() + ': status ' + st.toString()); ok = false; break; }
    if (!verify(ep, b)) { ok = false; break; }
    written++;
  }
  let again: u32 = 0;
  if (ok) for (let b: u32 = 0; b < ROUNDS; b++) { if (!verify(ep, b)) { ok = false; break; } again++; }
  const f = blk(ep, BLK_OP_FLUSH, 0, 0, 0);
  ok = ok && f == BLK_S_OK;
  print(written.toString() + ' blocks written and read back, ' + again.toString() + ' read again, flush ' + f.toString() + '; ' +
    abortedCalls.toString() + ' aborted call(s) made again');
  print(ok ? 'sync-writer test passed' : 'sync-writer test FAILED');
  return ok ? 0 : 1;
}
