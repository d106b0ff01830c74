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
import { peek } from '../lib/l4';
import { print, setConsoleTag } from '../lib/console';
import { BLK_OP_WRITE, BLK_OP_READ, BLK_S_OK, BLK_S_DENIED, RSP_ID, RSP_STATUS } from '../lib/io-proto';
import { REGION, connectRing, queue, push, nextResponse, sectors as deviceSectors, writable } from './ring-client';

/** The pattern: word i of sectors 0..7 (tests/io/storage.test.ts checks the host image). */
const MAGIC: u32 = 0x52494e47; // "RING"

function pattern(i: u32): u32 { return (MAGIC ^ (i * 0x9e3779b1)) >>> 0; }

const status = new StaticArray<i32>(4);

/** Publish the queued requests and wait for `n` responses (their statuses by id). */
function complete(n: u32): void {
  push();
  for (let k: u32 = 0; k < n; k++) {
    const e = nextResponse();
    const id = peek(e + RSP_ID);
    if (id >= 0 && id < 4) unchecked(status[id] = peek(e + RSP_STATUS));
  }
}

export function main(): i32 {
  setConsoleTag('ring-client');
  if (!connectRing(4, true)) return 1;
  const sectors = deviceSectors;
  print('connected with a ring: ' + sectors.toString() + ' sectors, ' + (writable ? 'read-write' : 'read-only'));
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
