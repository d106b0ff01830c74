// What the ring clients of the virtio-blk driver in a booted system share (ring.ts in
// manifests/storage.json, restart-ring.ts in manifests/blk-restart.json): connecting with a data
// frame and a one-page ring from the component's own quota and the notification its start
// information names (user/lib/startinfo.ts), putting requests on the ring, kicking the driver
// (BLK_KICK) when the ring says so, and sleeping on the notification until responses are there.
import { call, getMr, msgInfo, Err, CompSlot, Method, Rights, invoke, setXferCaps, sysRecv, sysNbSend, poke } from '../lib/l4';
import { MemoryClient, MemoryShareAllocResult } from '../lib/gen/memory';
import { print, findService } from '../lib/console';
import { BLK_OP_CONNECT, BLK_KICK, BLK_S_OK, REQ_ID, REQ_OP, REQ_SECTOR, REQ_OFFSET } from '../lib/io-proto';
import { ringEntry, ringInit, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../lib/ring';
import { ringNotificationSlot } from '../lib/startinfo';

const BLK_SLOT = 200;
const FRAME = 201;
const RING_FRAME = 202;
/** Where the data frame and the ring page are mapped. */
export const REGION: u32 = 0x5000_0000;
export const RING: i32 = 0x5100_0000;

let ep = 0;
/** Notification(ring:C), from the start information. */
let ntfn = 0;
let reqProdPvt: u32 = 0;
let rspCons: u32 = 0;
/** The virtual block device, as the driver answered the connect. */
export let sectors: u32 = 0;
export let writable = false;

/** Find the notification and blk, take `dataPages` pages and a ring page from the quota, map
 *  them, initialise the ring and connect (BLK_OP_CONNECT with frame, notification, ring). False
 *  after printing why not. With `tell`, print the notification's slot. */
export function connectRing(dataPages: i32, tell: bool): bool {
  ntfn = ringNotificationSlot('blk');
  if (ntfn == 0) { print('no ring notification for blk in the start information'); return false; }
  if (tell) print('ring notification for blk in slot ' + ntfn.toString());
  ep = findService('blk', BLK_SLOT);
  if (ep <= 0) { print('lookup of blk failed: ' + ep.toString()); return false; }
  const mem = new MemoryClient(CompSlot.Memory);
  const r = new MemoryShareAllocResult();
  mem.recvSlot = FRAME;
  let e = mem.shareAlloc(dataPages, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc failed: ' + e.toString()); return false; }
  mem.recvSlot = RING_FRAME;
  e = mem.shareAlloc(1, r);
  if (e != 0 || r.frame == 0) { print('shareAlloc of the ring failed: ' + e.toString()); return false; }
  e = invoke(FRAME, Method.FrameMap, CompSlot.Task, <i32>REGION, Rights.Read | Rights.Write);
  if (e == 0) e = invoke(RING_FRAME, Method.FrameMap, CompSlot.Task, RING, Rights.Read | Rights.Write);
  if (e != 0) { print('cannot map the frames: ' + e.toString()); return false; }
  ringInit(RING);
  setXferCaps(FRAME, ntfn, RING_FRAME);
  e = call(ep, msgInfo(BLK_OP_CONNECT, 0, 3));
  setXferCaps(0);
  if (e != Err.Ok || getMr(0) != BLK_S_OK) { print('connect refused: ' + e.toString() + '/' + getMr(0).toString()); return false; }
  sectors = <u32>getMr(1);
  writable = getMr(2) != 0;
  return true;
}

/** Put a request on the ring (published by push). */
export function queue(id: i32, op: i32, sector: u32, count: u32, offset: i32): void {
  const e = ringEntry(RING, reqProdPvt);
  poke(e + REQ_ID, id);
  poke(e + REQ_OP, op | (<i32>count << 8));
  poke(e + REQ_SECTOR, <i32>sector);
  poke(e + REQ_OFFSET, offset);
  reqProdPvt++;
}

/** Publish the queued requests; kick the driver if the ring asks for it. */
export function push(): void {
  if (ringPushRequests(RING, reqProdPvt)) sysNbSend(ep, msgInfo(BLK_KICK, 0), 0, 0, 0, 0, 0);
}

/** The next response's entry (sleeping on the notification until there is one); consumed. */
export function nextResponse(): i32 {
  while (ringResponsesAvailable(RING, rspCons) == 0) {
    if (!ringFinalCheckResponses(RING, rspCons, 1)) sysRecv(ntfn, 0, 0, 0, 0, 0, 0);
  }
  const e = ringEntry(RING, rspCons);
  rspCons++;
  return e;
}

/** Requests queued and responses consumed so far. */
export function requestCount(): u32 { return reqProdPvt; }
export function responseCount(): u32 { return rspCons; }
