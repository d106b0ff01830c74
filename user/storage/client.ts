// A client of the virtio-blk driver in the booted system (manifests/storage.json), shared by
// user/storage/main.ts ("storage", a read-write partition) and user/storage/reader.ts ("reader",
// a read-only one). It looks the "blk" service up at the name service (its endpoint arrives with
// Grant: the service is declared `grant`), takes a 4-page data frame from its own quota
// (memory.shareAlloc), maps it, connects to the driver by passing the frame (BLK_OP_CONNECT;
// docs/DRIVERS.md "Connecting at run time") and learns its virtual block device (size, write
// permission; the manifest's blockDevices). Read-write: writes a pattern to sectors 0..7 of its
// device, reads it back, compares, flushes. Read-only: its write is refused (BLK_S_DENIED), it
// reads sectors 0..7 and prints their first word. Either way a read of the sector just past its
// device is refused. Results go to the console.
//
// Every request goes through blk(), which retries a call the kernel aborted (Err.Aborted: the
// driver died while it held the call; its supervisor restarts it, with the same endpoint and
// this client's connection: docs/DRIVERS.md "Driver restart"), at most MAX_ABORTED times.
import { call, setMr, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setXferCaps } from '../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../lib/gen/memory';
import { print, setConsoleTag, findService } from '../lib/console';
import { BLK_OP_CONNECT, BLK_OP_WRITE, BLK_OP_READ, BLK_OP_FLUSH, BLK_S_OK, BLK_S_DENIED } from '../lib/io-proto';

const BLK_SLOT = 200;
const FRAME = 201;
export const REGION: u32 = 0x5000_0000;
/** The pattern: word i of sectors 0..7 (tests/io/storage.test.ts checks the host image). */
const MAGIC: u32 = 0x4c345453; // "L4TS"

function pattern(i: u32): u32 { return (MAGIC ^ (i * 0x9e3779b1)) >>> 0; }

/** Calls the kernel aborted (the driver died holding them) that blk() retries, per request. */
const MAX_ABORTED = 3;
/** Calls retried so far. */
export let abortedCalls = 0;

/** One request (BLK_OP_*): the driver's status, or 100 + the IPC error. A call aborted by the
 *  driver's death is made again (it waits in the endpoint's queue for the restarted driver). */
export function blk(ep: i32, op: i32, sector: i32, count: i32, offset: i32): i32 {
  for (let attempt = 1; attempt <= MAX_ABORTED + 1; attempt++) {
    setMr(0, sector);
    setMr(1, count);
    setMr(2, offset);
    const e = call(ep, msgInfo(op, 3));
    if (e == Err.Ok) return getMr(0);
    if (e != Err.Aborted || attempt > MAX_ABORTED) return 100 + e;
    abortedCalls++;
    print('request ' + op.toString() + ' of sector ' + sector.toString() + ' aborted (the driver stopped): retrying (' +
      attempt.toString() + '/' + MAX_ABORTED.toString() + ')');
  }
  return 100 + Err.Aborted;
}

/** After connect(): the virtual device's size and write permission. */
export let sectors = 0;
export let writable = false;

/** Look blk up, take a 4-page data frame from our quota, map it at REGION and connect with it.
 *  The endpoint's slot, or 0 (said on the console). */
export function connect(): i32 {
  const ep = findService('blk', BLK_SLOT);
  if (ep <= 0) { print('lookup of blk failed: ' + ep.toString()); return 0; }
  const mem = new MemoryClient(CompSlot.Memory);
  mem.recvSlot = FRAME;
  const r = new MemoryShareAllocResult();
  let e = mem.shareAlloc(4, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc failed: ' + e.toString()); return 0; }
  e = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  if (e != 0) { print('cannot map the data frame: ' + e.toString()); return 0; }
  setXferCaps(FRAME);
  e = call(ep, msgInfo(BLK_OP_CONNECT, 0, 1));
  setXferCaps(0);
  if (e != Err.Ok || getMr(0) != BLK_S_OK) { print('connect refused: ' + e.toString() + '/' + getMr(0).toString()); return 0; }
  sectors = getMr(1);
  writable = getMr(2) != 0;
  return ep;
}

export function run(tag: string): i32 {
  setConsoleTag(tag);
  const ep = connect();
  if (ep == 0) return 1;
  print('connected: ' + sectors.toString() + ' sectors, ' + (writable ? 'read-write' : 'read-only'));
  for (let i: u32 = 0; i < 1024; i++) store<u32>(REGION + i * 4, pattern(i));
  for (let i: u32 = 1024; i < 2048; i++) store<u32>(REGION + i * 4, 0);
  const beyond = blk(ep, BLK_OP_READ, sectors, 1, 8192);
  print('read of sector ' + sectors.toString() + ' (past the device): ' + beyond.toString() + (beyond == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)'));
  let ok = beyond == BLK_S_DENIED;
  if (writable) {
    const w = blk(ep, BLK_OP_WRITE, 0, 8, 0);
    const rd = blk(ep, BLK_OP_READ, 0, 8, 4096);
    let same = true;
    for (let i: u32 = 0; i < 1024; i++) if (load<u32>(REGION + 4096 + i * 4) != pattern(i)) same = false;
    const f = blk(ep, BLK_OP_FLUSH, 0, 0, 0);
    ok = ok && w == BLK_S_OK && rd == BLK_S_OK && f == BLK_S_OK && same;
    print('write ' + w.toString() + ', read ' + rd.toString() + ', flush ' + f.toString() + ': pattern ' + (same ? 'read back' : 'differs'));
  } else {
    const w = blk(ep, BLK_OP_WRITE, 0, 8, 0);
    const rd = blk(ep, BLK_OP_READ, 0, 8, 4096);
    ok = ok && w == BLK_S_DENIED && rd == BLK_S_OK;
    print('write ' + w.toString() + (w == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)') + ', read ' + rd.toString() +
      ': first word 0x' + load<u32>(REGION + 4096).toString(16));
  }
  print(ok ? tag + ' test passed' : tag + ' test FAILED');
  return ok ? 0 : 1;
}
