// The crash variant of the virtio-blk driver, for the restart test (manifests/blk-restart.json,
// tests/io/blk-restart.test.ts; docs/DRIVERS.md "Driver restart"): the driver itself, whose
// first incarnation crashes (a wasm trap: `unreachable`) when it is about to submit its
// CRASH_AFTER-th request. The supervisor restarts it; the restarted driver finds its clients'
// connections in its capability space, which disarms the crash. A separate image, so the
// driver that manifests normally name has no such variant at all.
import { main as driver, crashAfterRequests } from './main';

const CRASH_AFTER = 40;

export function main(): i32 {
  crashAfterRequests(CRASH_AFTER);
  return driver();
}
