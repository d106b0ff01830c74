// Block backends: where a virtio-blk disk's bytes live.
//
// Contract: `size` is fixed for the backend's life; `read`/`write` take a byte offset and move
// exactly dst.length/src.length bytes, or throw (RangeError past the end; any Error for an I/O
// failure — the block device turns every throw into VIRTIO_BLK_S_IOERR). `write` on a read-only
// backend throws. `flush` makes completed writes durable (a no-op in memory).
// A backend keeps no reference to `dst`/`src` after the call returns: the block device passes
// either its one staging buffer or the guest's own buffer (a view of DRAM the IOMMU admitted),
// and a failed read may leave `dst` partly written (the request then ends VIRTIO_BLK_S_IOERR,
// whose data the driver must not use).
// This file must stay free of `node:` imports: the machine layer runs in a browser too. The
// host-file backend is blk-file.ts.

export interface BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  read(offset: number, dst: Uint8Array): void;
  write(offset: number, src: Uint8Array): void;
  flush(): void;
}

/** A disk held in memory: a fresh zeroed one of `size` bytes, or over the given bytes (shared,
 * not copied, so a test can inspect what the guest wrote). */
export class MemoryBackend implements BlockBackend {
  readonly data: Uint8Array;
  readonly readOnly: boolean;
  /** Number of flush() calls, for tests of flush semantics. */
  flushes = 0;

  constructor(sizeOrData: number | Uint8Array, opts: { readOnly?: boolean } = {}) {
    this.data = typeof sizeOrData === 'number' ? new Uint8Array(sizeOrData) : sizeOrData;
    this.readOnly = opts.readOnly ?? false;
  }

  get size(): number {
    return this.data.length;
  }

  read(offset: number, dst: Uint8Array): void {
    this.checkRange('read', offset, dst.length);
    dst.set(this.data.subarray(offset, offset + dst.length));
  }

  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('blk memory write: the disk is read-only');
    this.checkRange('write', offset, src.length);
    this.data.set(src, offset);
  }

  flush(): void {
    this.flushes++;
  }

  private checkRange(op: string, offset: number, len: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + len > this.data.length) {
      throw new RangeError(`blk memory ${op}: ${len} bytes at ${offset} is past the end (${this.data.length})`);
    }
  }
}
