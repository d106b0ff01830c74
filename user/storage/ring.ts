// ring-client: a ring client of the virtio-blk driver in the booted system
// (manifests/storage.json). The service is ring-capable (`"ring": true`), so the root task gave
// this component Notification(ring:ring-client) RW; its start information's capability directory
// names the slot (user/lib/startinfo.ts: it also provides a service of its own, whose endpoint
// comes first, so the notification is not at CompSlot.FirstFree). It takes a 4-page data frame
// and a one-page ring from its own quota, connects by passing frame, notification and ring
// (BLK_OP_CONNECT with 3 capabilities), then puts requests on the ring, kicks the driver (BLK_KICK) when the ring says
// so and sleeps on its notification until the driver's responses are there: a write of a
// pattern to sectors 0..7 of its virtual block device and a write of the sector just past it
// (refused), then a read of sectors 0..7 into another page of the frame, compared.
import { call, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setXferCaps, sysRecv, sysNbSend, peek, poke } from '../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../lib/gen/memory';
import { print, setConsoleTag, findService } from '../lib/console';
import {
  BLK_OP_CONNECT, BLK_OP_WRITE, BLK_OP_READ, BLK_KICK, BLK_S_OK, BLK_S_DENIED, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET, RSP_ID, RSP_STATUS,
} from '../lib/io-proto';
import { ringEntry, ringInit, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../lib/ring';
import { ringNotificationSlot } from '../lib/startinfo';

const BLK_SLOT = 200;
const FRAME = 201;
const RING_FRAME = 202;
const REGION: u32 = 0x5000_0000;
const RING: i32 = 0x5100_0000;
/** The pattern: word i of sectors 0..7 (tests/io/storage.test.ts checks the host image). */
const MAGIC: u32 = 0x52494e47; // "RING"

function pattern(i: u32): u32 { return (MAGIC ^ (i * 0x9e3779b1)) >>> 0; }

let ep = 0;
/** Notification(ring:ring-client), from the start information. */
let ntfn = 0;
let reqProdPvt: u32 = 0;
let rspCons: u32 = 0;
const status = new StaticArray<i32>(4);

function queue(id: i32, op: i32, sector: u32, count: u32, offset: i32): void {
  const e = ringEntry(RING, reqProdPvt);
  poke(e + REQ_ID, id);
  poke(e + REQ_OP, op | (<i32>count << 8));
  poke(e + REQ_SECTOR, <i32>sector);
  poke(e + REQ_OFFSET, offset);
  reqProdPvt++;
}

/** Publish the queued requests, kick if asked to, and wait for `n` responses. */
function complete(n: u32): void {
  if (ringPushRequests(RING, reqProdPvt)) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
  while (n > 0) {
    if (ringResponsesAvailable(RING, rspCons) == 0) {
      if (!ringFinalCheckResponses(RING, rspCons, 1)) sysRecv(ntfn, 0, 0, 0, 0, 0, 0);
      continue;
    }
    const e = ringEntry(RING, rspCons);
    const id = peek(e + RSP_ID);
    if (id >= 0 && id < 4) unchecked(status[id] = peek(e + RSP_STATUS));
    rspCons++;
    n--;
  }
}

export function main(): i32 {
  setConsoleTag('ring-client');
  ntfn = ringNotificationSlot('blk');
  if (ntfn == 0) { print('no ring notification for blk in the start information'); return 1; }
  print('ring notification for blk in slot ' + ntfn.toString());
  ep = findService('blk', BLK_SLOT);
  if (ep <= 0) { print('lookup of blk failed: ' + ep.toString()); return 1; }
  const mem = new MemoryClient(CompSlot.Memory);
  const r = new MemoryShareAllocResult();
  mem.recvSlot = FRAME;
  let e = mem.shareAlloc(4, r);
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
  if (e != Err.Ok || getMr(0) != BLK_S_OK) { print('connect refused: ' + e.toString() + '/' + getMr(0).toString()); return 1; }
  const sectors = <u32>getMr(1);
  print('connected with a ring: ' + sectors.toString() + ' sectors, ' + (getMr(2) != 0 ? 'read-write' : 'read-only'));
  for (let i: u32 = 0; i < 1024; i++) store<u32>(REGION + i * 4, pattern(i));
  for (let i: u32 = 1024; i < 2048; i++) store<u32>(REGION + i * 4, 0);
  queue(0, BLK_OP_WRITE, 0, 8, 0);
  queue(1, BLK_OP_WRITE, sectors, 1, 0);
  complete(2);
  queue(2, BLK_OP_READ, 0, 8, 4096);
  complete(1);
  let same = true;
  for (let i: u32 = 0; i < 1024; i++) if (load<u32>(REGION + 4096 + i * 4) != pattern(i)) same = false;
  const w = status[0], past = status[1], rd = status[2];
  print('ring: write ' + w.toString() + ', write of sector ' + sectors.toString() + ' (past the device) ' + past.toString() +
    (past == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)') + ', read ' + rd.toString() + ': pattern ' + (same ? 'read back' : 'differs'));
  const ok = w == BLK_S_OK && past == BLK_S_DENIED && rd == BLK_S_OK && same;
  print(ok ? 'ring-client test passed' : 'ring-client test FAILED');
  return ok ? 0 : 1;
}
