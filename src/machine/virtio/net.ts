// virtio-net (virtio 1.2 §5.1), DeviceID 1: queue 0 = receiveq1, queue 1 = transmitq1.
//
// Features offered: VIRTIO_NET_F_MAC (config `mac`) and VIRTIO_NET_F_STATUS (config `status`,
// VIRTIO_NET_S_LINK_UP always set). No offloads, no mergeable buffers, no control queue.
// Configuration space (§5.1.4): u8 mac[6] at 0, le16 status at 6. Read-only.
//
// Every buffer starts with the 12-byte struct virtio_net_hdr (§5.1.6: VERSION_1 always gives the
// num_buffers field): {u8 flags, u8 gso_type, le16 hdr_len, le16 gso_size, le16 csum_start,
// le16 csum_offset, le16 num_buffers}.
//
// Transmit: on a notify of queue 1 the device takes every available chain, reads its readable
// bytes (header + frame), completes it (used length 0) and hands the frame to the switch — all
// during the notify, so transmission costs no virtual time; the switch's latency is the wire.
// A frame shorter than 14 or longer than 1518 bytes (1514 + VLAN tag) is not sent and counted
// in txErrors; its buffer is still returned.
//
// Receive: a frame from the switch arrives in a clock event of this board's clock. Frames that
// arrive while the device is not live (before DRIVER_OK, after an error) are dropped. Otherwise
// the frame is written into the next receive chain (all-writable; header with num_buffers = 1 as
// §5.1.6.4 requires without MRG_RXBUF, then the frame) and used with length 12 + frame length.
// A chain too small for the frame takes nothing: used length 0 (the driver sees a short buffer
// and recycles it) and the frame is counted in rxTooBig and dropped. When no receive buffer is
// available the frame waits in a backlog of `backlog` frames (default 32), drained in order when
// the driver adds buffers (notify of queue 0); a frame arriving at a full backlog is dropped and
// counted in rxDropped.
//
// An IOMMU-refused buffer (either direction) is a device error, DEVICE_NEEDS_RESET: virtio-net has
// no per-buffer status through which the driver could be told.

import type { VirtualClock } from '../clock.ts';
import type { VirtioDevice, VirtioHost } from './mmio.ts';
import { VirtqueueError, gather, scatter } from './virtqueue.ts';
import { parseMac, type SwitchEndpoint, type SwitchPort, type VirtualSwitch } from './switch.ts';

export const VIRTIO_ID_NET = 1;

export const VIRTIO_NET_F_MAC = 5;
export const VIRTIO_NET_F_STATUS = 16;
export const VIRTIO_NET_S_LINK_UP = 1;

export const VIRTIO_NET_HDR_BYTES = 12;
export const VIRTIO_NET_RX_QUEUE = 0;
export const VIRTIO_NET_TX_QUEUE = 1;
const ETH_MIN = 14;
const ETH_MAX = 1518;

export interface VirtioNetOptions {
  /** The NIC's MAC address: 6 bytes or "aa:bb:cc:dd:ee:ff". */
  mac: Uint8Array | string;
  /** Switch to join once the NIC is attached to its transport (it then knows its clock). */
  network?: VirtualSwitch;
  /** Frames held while the driver has no receive buffer. Default 32. */
  backlog?: number;
  /** QueueNumMax of both queues (a power of 2). Default 256. */
  queueSize?: number;
}

export interface NetStats {
  txFrames: number;
  txErrors: number;
  rxFrames: number;
  /** Frames dropped: backlog full, or device not live. */
  rxDropped: number;
  /** Frames dropped because the receive chain was too small. */
  rxTooBig: number;
}

export class VirtioNet implements VirtioDevice, SwitchEndpoint {
  readonly deviceId = VIRTIO_ID_NET;
  readonly features = (1n << BigInt(VIRTIO_NET_F_MAC)) | (1n << BigInt(VIRTIO_NET_F_STATUS));
  readonly queueMax: readonly number[];
  readonly mac: Uint8Array;
  readonly stats: NetStats = { txFrames: 0, txErrors: 0, rxFrames: 0, rxDropped: 0, rxTooBig: 0 };
  readonly backlogLimit: number;
  private host: VirtioHost | null = null;
  private port: SwitchPort | null = null;
  private backlog: Uint8Array[] = [];
  private readonly network: VirtualSwitch | null;

  constructor(opts: VirtioNetOptions) {
    this.mac = typeof opts.mac === 'string' ? parseMac(opts.mac) : Uint8Array.from(opts.mac);
    if (this.mac.length !== 6) throw new Error(`virtio-net: a MAC address has 6 bytes, not ${this.mac.length}`);
    const qs = opts.queueSize ?? 256;
    if (!Number.isInteger(qs) || qs < 2 || qs > 32768 || (qs & (qs - 1)) !== 0) {
      throw new RangeError(`virtio-net: queue size ${qs} must be a power of 2 in 2..32768`);
    }
    this.queueMax = [qs, qs];
    this.backlogLimit = opts.backlog ?? 32;
    this.network = opts.network ?? null;
  }

  attach(host: VirtioHost): void {
    this.host = host;
    if (this.network !== null) this.connect(this.network, host.clock);
  }

  /** Join `sw` (leaving any previous switch); frames then arrive on `clock`. */
  connect(sw: VirtualSwitch, clock: VirtualClock): void {
    this.port?.detach();
    this.port = sw.connect(this, clock);
  }

  /** Frames waiting for a receive buffer. */
  get backlogLength(): number {
    return this.backlog.length;
  }

  config(): Uint8Array {
    const c = new Uint8Array(8);
    c.set(this.mac, 0);
    c[6] = VIRTIO_NET_S_LINK_UP;
    return c;
  }

  notify(q: number): void {
    if (q === VIRTIO_NET_TX_QUEUE) this.transmit();
    else if (q === VIRTIO_NET_RX_QUEUE) this.drainBacklog();
  }

  reset(): void {
    this.backlog = [];
  }

  /** SwitchEndpoint: a frame arrives (in a clock event of this board). */
  receiveFrame(frame: Uint8Array): void {
    const host = this.host;
    if (host === null || !host.live()) {
      this.stats.rxDropped++;
      return;
    }
    host.guard(() => {
      if (this.backlog.length === 0 && this.deliver(frame)) return;
      if (this.backlog.length >= this.backlogLimit) {
        this.stats.rxDropped++;
        return;
      }
      this.backlog.push(frame);
    });
  }

  private drainBacklog(): void {
    while (this.backlog.length > 0 && this.deliver(this.backlog[0])) this.backlog.shift();
  }

  /** Put `frame` in the next receive chain; false when there is none. */
  private deliver(frame: Uint8Array): boolean {
    const host = this.host!;
    const vq = host.queue(VIRTIO_NET_RX_QUEUE);
    if (vq === null || !host.live()) return false;
    const chain = vq.pop();
    if (chain === null) return false;
    if (chain.readableLength > 0) throw new VirtqueueError('virtio-net: receive chain has device-readable descriptors');
    const total = VIRTIO_NET_HDR_BYTES + frame.length;
    if (chain.writableLength < total) {
      this.stats.rxTooBig++;
      vq.push(chain.head, 0);
    } else {
      const buf = new Uint8Array(total);
      buf[10] = 1; // num_buffers = 1 (le16 at offset 10); every other header field 0
      buf.set(frame, VIRTIO_NET_HDR_BYTES);
      scatter(host.dma, chain.writable, 0, buf);
      vq.push(chain.head, total);
      this.stats.rxFrames++;
    }
    host.usedBuffers(VIRTIO_NET_RX_QUEUE);
    return true;
  }

  private transmit(): void {
    const host = this.host!;
    const vq = host.queue(VIRTIO_NET_TX_QUEUE);
    if (vq === null) return;
    let pushed = false;
    for (let chain = vq.pop(); chain !== null; chain = vq.pop()) {
      const len = chain.readableLength - VIRTIO_NET_HDR_BYTES;
      let frame: Uint8Array | null = null;
      if (len >= ETH_MIN && len <= ETH_MAX) frame = gather(host.dma, chain.readable, VIRTIO_NET_HDR_BYTES, len);
      vq.push(chain.head, 0);
      pushed = true;
      if (frame === null) {
        this.stats.txErrors++;
        continue;
      }
      this.stats.txFrames++;
      this.port?.send(frame);
    }
    if (pushed) host.usedBuffers(VIRTIO_NET_TX_QUEUE);
  }
}
