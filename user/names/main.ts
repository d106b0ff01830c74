// The name service (docs/USERLAND.md "Name service protocol"): hands a component, on lookup,
// the endpoint of a service the manifest lets it use, badged with the component's badge; the
// reply carries the capability (replies always may: the names endpoint needs no Grant). A
// lookup the manifest does not allow gets NamesStatus.NotAllowed, an unknown name
// NoSuchService. A provider registers its service when it is ready (Register; only the
// provider may). Everything it knows comes from its start-information page (the root task
// wrote it from the manifest): the allowed (client badge, service) pairs with the slot of the
// badged endpoint, and every service with its provider's badge.

import {
  peek, Err, Utcb, recv, replyRecv, reply, setMr, getMr, msgLabel, msgLength, badge, msgInfo, utcbSet,
  debugPrint,
} from "../lib/l4";
import { START_INFO_BASE, START_INFO_MAGIC, StartHdr, NamesAllow, NamesService, NamesProto, NamesStatus, NAME_WORDS } from "../lib/bootplan";

function si(k: i32): i32 {
  return peek(START_INFO_BASE + 4 * k);
}

const MAX_NAME_BYTES: i32 = 32;

/** The service whose name is in the request (MR0 = length, MR1.. = bytes), or -1. */
function findService(nSvc: i32, svcTable: i32, svcWords: i32): i32 {
  const len = getMr(0);
  for (let s = 0; s < nSvc; s++) {
    const at = svcTable + s * svcWords + NamesService.Name;
    if (si(at) != len) continue;
    let same = true;
    for (let w = 0; w < (len + 3) >> 2; w++) {
      if (si(at + 1 + w) != getMr(1 + w)) {
        same = false;
        break;
      }
    }
    if (same) return s;
  }
  return -1;
}

export function main(): i32 {
  if (si(StartHdr.Magic) != START_INFO_MAGIC) {
    debugPrint("names: no start information\n");
    return 1;
  }
  const ep = si(StartHdr.Endpoint);
  const nAllow = si(StartHdr.EntryCount);
  const allowWords = si(StartHdr.EntryWords);
  const allowTable = si(StartHdr.EntryTable);
  const nSvc = si(StartHdr.Entry2Count);
  const svcWords = si(StartHdr.Entry2Words);
  const svcTable = si(StartHdr.Entry2Table);
  const registered = new StaticArray<i32>(nSvc > 0 ? nSvc : 1);

  let err = recv(ep);
  for (;;) {
    let status = NamesStatus.Ok;
    let caps = 0;
    let length = 1;
    const label = msgLabel();
    const len = getMr(0);
    if (err != Err.Ok) {
      err = recv(ep);
      continue;
    }
    if ((label != NamesProto.Lookup && label != NamesProto.Register) || len < 0 || len > MAX_NAME_BYTES || msgLength() < 1 + ((len + 3) >> 2)) {
      status = NamesStatus.BadRequest;
    } else {
      const s = findService(nSvc, svcTable, svcWords);
      const who = badge();
      if (s < 0) {
        status = NamesStatus.NoSuchService;
      } else if (label == NamesProto.Register) {
        if (si(svcTable + s * svcWords + NamesService.ProviderBadge) != who) status = NamesStatus.NotProvider;
        else registered[s] = 1;
      } else {
        status = NamesStatus.NotAllowed;
        for (let a = 0; a < nAllow; a++) {
          const at = allowTable + a * allowWords;
          if (si(at + NamesAllow.ClientBadge) == who && si(at + NamesAllow.Service) == s) {
            utcbSet(Utcb.XferCap0, si(at + NamesAllow.EndpointSlot));
            status = NamesStatus.Ok;
            caps = 1;
            length = 2;
            setMr(1, registered[s]);
            break;
          }
        }
      }
    }
    setMr(0, status);
    err = replyRecv(ep, msgInfo(0, length, caps));
  }
  return 0;
}
