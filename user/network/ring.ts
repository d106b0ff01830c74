// ping-ring: a ring client of the virtio-net driver "net1" (NIC in virtio slot 1) in
// manifests/network.json. It connects with a data frame, its notification and a two-page ring
// frame (TX ring, RX ring; NET_OP_CONNECT with 3 capabilities), posts four receive buffers on
// its RX ring, queues four frames of different lengths to the echo service on its TX ring, kicks
// the driver (NET_KICK) when the rings ask for it, and sleeps on its notification until all four
// have come back, checking every byte. Its notification's slot comes from its start
// information (user/lib/startinfo.ts, through connectNet).
import { msgInfo, sysRecv, sysNbSend, peek, poke } from '../lib/l4';
import { print, setConsoleTag } from '../lib/console';
import { NET_KICK, BLK_S_OK, NREQ_ID, NREQ_OFFSET, NREQ_LEN, NRSP_ID, NRSP_STATUS, NRSP_LEN } from '../lib/io-proto';
import { ringEntry, ringPushRequests, ringResponsesAvailable, ringFinalCheckResponses } from '../lib/ring';
import { connectNet, buildFrame, checkEcho, macString, myLo, myHi, NTFN, TX_RING, RX_RING, ECHO_MAC_LO, ECHO_MAC_HI } from './common';

const N = 4;
const TX_BUF: u32 = 0; // frame i at i * 2048
const RX_BUF: u32 = 8192; // receive buffer i at 8192 + i * 2048

let txProd: u32 = 0;
let rxProd: u32 = 0;

function request(ring: i32, prod: u32, id: i32, off: u32, len: u32): void {
  const e = ringEntry(ring, prod);
  poke(e + NREQ_ID, id);
  poke(e + NREQ_OFFSET, <i32>off);
  poke(e + NREQ_LEN, <i32>len);
}

export function main(): i32 {
  setConsoleTag('ping-ring');
  const ep = connectNet('net1', true);
  if (ep == 0) return 1;
  print('connected to net1 with rings as ' + macString(myLo, myHi));
  const lens: u32[] = [1514, 60, 1000, 333];
  for (let i = 0; i < N; i++) request(RX_RING, rxProd++, i, RX_BUF + <u32>i * 2048, 2048);
  for (let i = 0; i < N; i++) {
    buildFrame(TX_BUF + <u32>i * 2048, <u32>(200 + i), lens[i], myLo, myHi);
    request(TX_RING, txProd++, i, TX_BUF + <u32>i * 2048, lens[i]);
  }
  const a = ringPushRequests(RX_RING, rxProd);
  const b = ringPushRequests(TX_RING, txProd);
  if (a || b) sysNbSend(ep, msgInfo(NET_KICK, 0), 0, 0, 0, 0, 0);
  // Transmit responses, then the echoes.
  let txCons: u32 = 0;
  let rxCons: u32 = 0;
  let txOk = 0;
  let good = 0;
  while (txCons < <u32>N || rxCons < <u32>N) {
    if (ringResponsesAvailable(TX_RING, txCons) == 0 && ringResponsesAvailable(RX_RING, rxCons) == 0) {
      const moreTx = txCons < <u32>N && ringFinalCheckResponses(TX_RING, txCons, 1);
      const moreRx = rxCons < <u32>N && ringFinalCheckResponses(RX_RING, rxCons, 1);
      if (!moreTx && !moreRx) sysRecv(NTFN, 0, 0, 0, 0, 0, 0);
      continue;
    }
    while (ringResponsesAvailable(TX_RING, txCons) != 0) {
      if (peek(ringEntry(TX_RING, txCons) + NRSP_STATUS) == BLK_S_OK) txOk++;
      txCons++;
    }
    while (ringResponsesAvailable(RX_RING, rxCons) != 0) {
      const e = ringEntry(RX_RING, rxCons++);
      const id = peek(e + NRSP_ID);
      if (peek(e + NRSP_STATUS) != BLK_S_OK || id < 0 || id >= N) continue;
      // Echoes come back in order; the buffer of response j holds the echo of frame j.
      const j = <i32>rxCons - 1;
      if (checkEcho(RX_BUF + <u32>id * 2048, <u32>(200 + j), lens[j], peek(e + NRSP_LEN))) good++;
    }
  }
  print('ring: ' + N.toString() + ' frames sent to ' + macString(ECHO_MAC_LO, ECHO_MAC_HI) + ' (' + txOk.toString() + ' taken), ' +
    good.toString() + ' came back intact');
  const ok = txOk == N && good == N;
  print(ok ? 'ping-ring test passed' : 'ping-ring test FAILED');
  return ok ? 0 : 1;
}
