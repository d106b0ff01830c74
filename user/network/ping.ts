// ping: a synchronous client of the virtio-net driver "net1" (NIC in virtio slot 1) in
// manifests/network.json. It connects with a data frame and its notification, sends frames of
// 60, 1514 and 800 bytes to the echo service on the other NIC (NET_OP_TX: answered when the
// device has taken the frame) and receives each one back (NET_OP_RX, sleeping on its
// notification while nothing is queued), checking every byte; a frame with another client's
// source address is refused (BLK_S_DENIED, 3), and so is a second connect.
import { call, setMr, getMr, msgInfo, Err, sysRecv, setXferCaps } from '../lib/l4';
import { print, setConsoleTag } from '../lib/console';
import { NET_OP_RX, NET_OP_TX, NET_OP_CONNECT, NET_S_EMPTY, BLK_S_OK, BLK_S_DENIED } from '../lib/io-proto';
import { connectNet, buildFrame, checkEcho, macString, myLo, myHi, NTFN, FRAME, ECHO_MAC_LO, ECHO_MAC_HI } from './common';

function tx(ep: i32, off: u32, len: u32): i32 {
  setMr(0, <i32>off);
  setMr(1, <i32>len);
  const e = call(ep, msgInfo(NET_OP_TX, 2));
  return e != Err.Ok ? 100 + e : getMr(0);
}

/** Receive one frame into `off`, waiting for it; its length, or -status. */
function rx(ep: i32, off: u32): i32 {
  for (;;) {
    setMr(0, <i32>off);
    setMr(1, 2048);
    const e = call(ep, msgInfo(NET_OP_RX, 2));
    if (e != Err.Ok) return -(100 + e);
    const st = getMr(0);
    if (st == BLK_S_OK) return getMr(1);
    if (st != NET_S_EMPTY) return -st;
    sysRecv(NTFN, 0, 0, 0, 0, 0, 0);
  }
  return 0;
}

export function main(): i32 {
  setConsoleTag('ping');
  const ep = connectNet('net1', false);
  if (ep == 0) return 1;
  print('connected to net1 as ' + macString(myLo, myHi));
  const lens: u32[] = [60, 1514, 800];
  let good = 0;
  for (let i = 0; i < lens.length; i++) {
    const seq = <u32>(100 + i);
    buildFrame(0, seq, lens[i], myLo, myHi);
    const st = tx(ep, 0, lens[i]);
    const got = st == BLK_S_OK ? rx(ep, 4096) : 0;
    if (st == BLK_S_OK && checkEcho(4096, seq, lens[i], got)) good++;
    else print('frame ' + seq.toString() + ': send ' + st.toString() + ', received ' + got.toString());
  }
  // A frame from the echo service's address: not ours to send.
  buildFrame(0, 999, 60, ECHO_MAC_LO, ECHO_MAC_HI);
  const spoof = tx(ep, 0, 60);
  // A second connect: refused (the driver has this client's frames already).
  setXferCaps(FRAME, NTFN);
  const e = call(ep, msgInfo(NET_OP_CONNECT, 0, 2));
  setXferCaps(0);
  const again = e != Err.Ok ? 100 + e : getMr(0);
  print('second connect: ' + again.toString() + (again == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)'));
  print('sync: ' + lens.length.toString() + ' frames sent to ' + macString(ECHO_MAC_LO, ECHO_MAC_HI) + ', ' + good.toString() +
    ' came back intact; a frame from another\'s address: ' + spoof.toString() + (spoof == BLK_S_DENIED ? ' (refused)' : ' (NOT refused)'));
  const ok = good == lens.length && spoof == BLK_S_DENIED && again == BLK_S_DENIED;
  print(ok ? 'ping test passed' : 'ping test FAILED');
  return ok ? 0 : 1;
}
