// storage: a read-write client of the virtio-blk driver in the booted system
// (manifests/storage.json; its virtual block device is a partition of the disk). See client.ts.
import { run } from './client';

export function main(): i32 {
  return run('storage');
}
