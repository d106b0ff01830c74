// reader: a read-only client of the virtio-blk driver in the booted system
// (manifests/storage.json; its virtual block device is another partition, read-only). See client.ts.
import { run } from './client';

export function main(): i32 {
  return run('reader');
}
