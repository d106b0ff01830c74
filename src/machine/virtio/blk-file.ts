// A block backend over a host file (Node only: the one file of the machine layer that may import
// `node:` modules; a browser front end uses MemoryBackend).
//
// Contract: the file must exist — it is never created or resized; its size at open time is the
// disk size. Opened read-only ('r') or read-write ('r+'). Writes are synchronous positioned writes
// (fs.writeSync), so they are in the file when the request completes; flush() is fsync. Errors
// name the path: a missing file, a directory, or a file without write permission opened for
// writing (checked on the mode bits too, so that it holds even for root) are refused at open.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import type { BlockBackend } from './blk-backend.ts';

export class FileBackend implements BlockBackend {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    readonly size: number,
    readonly readOnly: boolean,
  ) {
    this.fd = fd;
  }

  /** Open `path` as a disk; read-write unless `readOnly`. Throws an Error naming the path. */
  static open(path: string, opts: { readOnly?: boolean } = {}): FileBackend {
    const readOnly = opts.readOnly ?? false;
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new Error(`blk-file: disk image ${path} does not exist`);
      throw new Error(`blk-file: cannot stat disk image ${path}: ${(e as Error).message}`);
    }
    if (!st.isFile()) throw new Error(`blk-file: disk image ${path} is not a regular file`);
    if (!readOnly && (st.mode & 0o222) === 0) {
      throw new Error(`blk-file: disk image ${path} is read-only; open it read-only or make it writable`);
    }
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new Error(`blk-file: disk image ${path} cannot be opened for ${readOnly ? 'reading' : 'writing'} (${code})`);
      }
      throw new Error(`blk-file: cannot open disk image ${path}: ${(e as Error).message}`);
    }
    return new FileBackend(path, fd, fstatSync(fd).size, readOnly);
  }

  read(offset: number, dst: Uint8Array): void {
    const fd = this.handle('read');
    this.checkRange('read', offset, dst.length);
    let done = 0;
    while (done < dst.length) {
      const n = readSync(fd, dst, done, dst.length - done, offset + done);
      if (n === 0) {
        // The file shrank under us: what is no longer there reads as zeros.
        dst.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    const fd = this.handle('write');
    if (this.readOnly) throw new Error(`blk-file write: disk image ${this.path} is open read-only`);
    this.checkRange('write', offset, src.length);
    let done = 0;
    while (done < src.length) done += writeSync(fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    fsyncSync(this.handle('flush'));
  }

  /** Close the file; later accesses throw. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private handle(op: string): number {
    if (this.fd === null) throw new Error(`blk-file ${op}: disk image ${this.path} is closed`);
    return this.fd;
  }

  private checkRange(op: string, offset: number, len: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + len > this.size) {
      throw new RangeError(`blk-file ${op}: ${len} bytes at ${offset} is past the end of ${this.path} (${this.size})`);
    }
  }
}
