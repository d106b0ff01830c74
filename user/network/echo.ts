// echo: the echo service of manifests/network.json, a synchronous client of the virtio-net
// driver "net0" (NIC in virtio slot 0). It connects with a data frame from its quota and its
// notification (NET_OP_CONNECT, 2 capabilities), then forever: receives a frame (NET_OP_RX; when
// none is queued it sleeps on its notification, which the driver signals when one comes), turns
// it around (destination = its source, source = its own address) and sends it back out of the
// same buffer (NET_OP_TX). Each echo is logged through the console.
import { call, setMr, getMr, msgInfo, Err, sysRecv } from '../lib/l4';
import { print, setConsoleTag } from '../lib/console';
import { NET_OP_RX, NET_OP_TX, NET_S_EMPTY, BLK_S_OK } from '../lib/io-proto';
import { connectNet, turnAround, macString, myLo, myHi, NTFN } from './common';

export function main(): i32 {
  setConsoleTag('echo');
  const ep = connectNet('net0', false);
  if (ep == 0) return 1;
  print('connected to net0 as ' + macString(myLo, myHi) + ', echoing');
  for (let n = 1; ; ) {
    setMr(0, 0);
    setMr(1, 2048);
    let e = call(ep, msgInfo(NET_OP_RX, 2));
    if (e != Err.Ok) { print('receive failed: ' + e.toString()); return 1; }
    const st = getMr(0);
    if (st == NET_S_EMPTY) { sysRecv(NTFN, 0, 0, 0, 0, 0, 0); continue; }
    if (st != BLK_S_OK) { print('receive refused: ' + st.toString()); continue; }
    const len = getMr(1);
    const from = turnAround(0);
    setMr(0, 0);
    setMr(1, len);
    e = call(ep, msgInfo(NET_OP_TX, 2));
    print('echoed frame ' + n.toString() + ' (' + len.toString() + ' bytes) to ' + from + ': ' + (e == Err.Ok ? getMr(0).toString() : 'error ' + e.toString()));
    n++;
  }
  return 0;
}
