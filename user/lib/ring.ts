// Shared-memory request/response rings in the spirit of Xen's io/ring.h (docs/DRIVERS.md
// "Rings"): one page, header words req_prod / req_event / rsp_prod / rsp_event, then RING_SIZE
// entries of RING_ENTRY_BYTES; a response overwrites the slot of a request already consumed.
// Indices are free-running u32; an entry is at (index & (RING_SIZE - 1)).
//
// Notification suppression (the *_event thresholds): the producer notifies only when its new
// producer index passes the consumer's event index; a consumer about to sleep sets its event
// index to cons + 1 and checks once more (the "final check"), so no notification is lost and a
// batch of requests costs one notification each way.
//
// The ring page is writable by both sides, so the driver (back end) trusts nothing it reads
// there: it keeps its own req_cons and rsp_prod, reads req_prod once per pass, and refuses a
// producer index that claims more than RING_SIZE unconsumed requests (ringRequestsAvailable
// returns -1: the ring is broken and the driver disconnects it).

import { peek, poke } from './syscalls';
import {
  RING_REQ_PROD, RING_REQ_EVENT, RING_RSP_PROD, RING_RSP_EVENT, RING_HDR_BYTES, RING_SIZE, RING_ENTRY_BYTES,
} from './io-proto';

/** Address of the entry for free-running index `idx`. */
export function ringEntry(ring: i32, idx: u32): i32 {
  return ring + RING_HDR_BYTES + <i32>(idx & (RING_SIZE - 1)) * RING_ENTRY_BYTES;
}

/** Reset the header (the client does it once before use). */
export function ringInit(ring: i32): void {
  poke(ring + RING_REQ_PROD, 0);
  poke(ring + RING_REQ_EVENT, 1);
  poke(ring + RING_RSP_PROD, 0);
  poke(ring + RING_RSP_EVENT, 1);
}

// ---- front end (client) ------------------------------------------------------------------------

/** Publish requests up to `reqProdPvt`; true if the back end must be notified. */
export function ringPushRequests(ring: i32, reqProdPvt: u32): bool {
  const old = <u32>peek(ring + RING_REQ_PROD);
  poke(ring + RING_REQ_PROD, <i32>reqProdPvt);
  const ev = <u32>peek(ring + RING_REQ_EVENT);
  return reqProdPvt - ev < reqProdPvt - old;
}

/** Responses published and not yet consumed (front end). */
export function ringResponsesAvailable(ring: i32, rspCons: u32): u32 {
  return <u32>peek(ring + RING_RSP_PROD) - rspCons;
}

/** Before sleeping: ask to be notified at the next response (rsp_event = rspCons + `after`),
 *  then look again. True if responses are there after all (do not sleep). */
export function ringFinalCheckResponses(ring: i32, rspCons: u32, after: u32): bool {
  if (<u32>peek(ring + RING_RSP_PROD) != rspCons) return true;
  poke(ring + RING_RSP_EVENT, <i32>(rspCons + (after == 0 ? 1 : after)));
  return <u32>peek(ring + RING_RSP_PROD) != rspCons;
}

// ---- back end (driver) -------------------------------------------------------------------------

/** Requests the back end may consume now, or -1 if the producer index is impossible (more
 *  than RING_SIZE unconsumed, or more than the free response slots allow). */
export function ringRequestsAvailable(ring: i32, reqCons: u32, rspProdPvt: u32): i32 {
  const prod = <u32>peek(ring + RING_REQ_PROD);
  const n = prod - reqCons;
  if (n > <u32>RING_SIZE) return -1;
  const room = <u32>RING_SIZE - (reqCons - rspProdPvt);
  return <i32>(n < room ? n : room);
}

/** Publish responses up to `rspProdPvt` (the back end's own count; `old` = what it published
 *  last); true if the front end must be notified. */
export function ringPushResponses(ring: i32, rspProdPvt: u32, old: u32): bool {
  poke(ring + RING_RSP_PROD, <i32>rspProdPvt);
  const ev = <u32>peek(ring + RING_RSP_EVENT);
  return rspProdPvt - ev < rspProdPvt - old;
}

/** Before sleeping: req_event = reqCons + 1, then look again. True if requests arrived. */
export function ringFinalCheckRequests(ring: i32, reqCons: u32): bool {
  if (<u32>peek(ring + RING_REQ_PROD) != reqCons) return true;
  poke(ring + RING_REQ_EVENT, <i32>(reqCons + 1));
  return <u32>peek(ring + RING_REQ_PROD) != reqCons;
}
