// A virtual Ethernet switch joining NICs (on one board or on several boards in the same
// process) and host-side taps.
//
// Forwarding (IEEE 802.1D learning bridge, without aging or spanning tree): on every frame the
// switch learns source MAC → ingress port (unicast sources only); a frame to a broadcast or
// multicast address (I/G bit set) or to an unknown unicast address is flooded to every other
// port; a frame to a learned address goes to that port only, and is filtered (dropped) if that
// is the ingress port. Frames shorter than the 14-byte Ethernet header are dropped as runts.
// Detaching a port forgets the addresses learned on it.
//
// Timing contract: each NIC port has a link into its NIC, timed on that port's clock (the
// receiving board's). A frame for the port starts serializing when the link is free (at once, or
// when the previous frame has finished), occupies it for ceil(length × cyclesPerByte) cycles, and
// is delivered as a clock event `latencyCycles` after its last byte. So frames reach a NIC in the
// order the switch forwarded them, and a burst is paced by the link's bandwidth. Taps have no
// clock: a frame to a tap is handed to its callback during the send. Every delivery gets its own
// copy of the frame.

import type { VirtualClock } from '../clock.ts';

/** Something that receives frames from the switch (a NIC). Called in its clock's event. */
export interface SwitchEndpoint {
  receiveFrame(frame: Uint8Array): void;
}

/** A port: the sending side of an attachment. */
export interface SwitchPort {
  readonly id: number;
  /** Inject a frame into the switch, as received on this port. */
  send(frame: Uint8Array): void;
  /** Leave the switch. */
  detach(): void;
}

export interface SwitchOptions {
  /** Delay from a frame's last byte to its delivery, in the receiver's cycles. Default 1 000
   * (10 µs at 100 MHz). */
  latencyCycles?: number;
  /** Serialization time per byte, in the receiver's cycles. Default 0.8 (1 Gbit/s at 100 MHz). */
  cyclesPerByte?: number;
}

export interface SwitchStats {
  /** Frames received on a port. */
  frames: number;
  /** Frames sent to every other port (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** Frames forwarded to one learned port. */
  forwarded: number;
  /** Frames whose learned destination was the ingress port. */
  filtered: number;
  /** Frames shorter than an Ethernet header. */
  runts: number;
}

type Attachment =
  | { kind: 'nic'; id: number; endpoint: SwitchEndpoint; clock: VirtualClock; linkFreeAt: number }
  | { kind: 'tap'; id: number; onFrame: (frame: Uint8Array) => void };

const ETH_HEADER = 14;

/** "aa:bb:cc:dd:ee:ff" for a 6-byte address at `off`. */
export function macToString(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[off + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parse "aa:bb:cc:dd:ee:ff" (or '-' separated). Throws on anything else. */
export function parseMac(s: string): Uint8Array {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new Error(`net: "${s}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export class VirtualSwitch {
  readonly latencyCycles: number;
  readonly cyclesPerByte: number;
  readonly stats: SwitchStats = { frames: 0, flooded: 0, forwarded: 0, filtered: 0, runts: 0 };
  private readonly ports = new Map<number, Attachment>();
  private readonly table = new Map<string, number>();
  private nextId = 0;

  constructor(opts: SwitchOptions = {}) {
    this.latencyCycles = opts.latencyCycles ?? 1000;
    this.cyclesPerByte = opts.cyclesPerByte ?? 0.8;
  }

  /** Attach a NIC whose board runs on `clock`. */
  connect(endpoint: SwitchEndpoint, clock: VirtualClock): SwitchPort {
    return this.attach({ kind: 'nic', id: this.nextId++, endpoint, clock, linkFreeAt: 0 });
  }

  /** Attach a host-side tap: `onFrame` sees every frame the switch sends to it. */
  attachTap(onFrame: (frame: Uint8Array) => void): SwitchPort {
    return this.attach({ kind: 'tap', id: this.nextId++, onFrame });
  }

  /** Learned MAC ("aa:bb:...") → port id. */
  macTable(): ReadonlyMap<string, number> {
    return this.table;
  }

  private attach(a: Attachment): SwitchPort {
    this.ports.set(a.id, a);
    return {
      id: a.id,
      send: (frame) => this.ingress(a.id, frame),
      detach: () => {
        this.ports.delete(a.id);
        for (const [mac, port] of this.table) if (port === a.id) this.table.delete(mac);
      },
    };
  }

  private ingress(from: number, frame: Uint8Array): void {
    if (!this.ports.has(from)) return; // a detached port sends nothing
    this.stats.frames++;
    if (frame.length < ETH_HEADER) {
      this.stats.runts++;
      return;
    }
    const srcGroup = (frame[6] & 1) !== 0;
    if (!srcGroup) this.table.set(macToString(frame, 6), from);
    const dstGroup = (frame[0] & 1) !== 0;
    const learned = dstGroup ? undefined : this.table.get(macToString(frame, 0));
    if (learned === undefined) {
      this.stats.flooded++;
      for (const a of this.ports.values()) if (a.id !== from) this.deliver(a, frame);
      return;
    }
    if (learned === from) {
      this.stats.filtered++;
      return;
    }
    this.stats.forwarded++;
    const a = this.ports.get(learned);
    if (a !== undefined) this.deliver(a, frame);
  }

  private deliver(a: Attachment, frame: Uint8Array): void {
    const copy = frame.slice();
    if (a.kind === 'tap') {
      a.onFrame(copy);
      return;
    }
    const start = Math.max(a.clock.cycles, a.linkFreeAt);
    a.linkFreeAt = start + Math.ceil(copy.length * this.cyclesPerByte);
    a.clock.at(a.linkFreeAt + this.latencyCycles, () => {
      if (this.ports.get(a.id) === a) a.endpoint.receiveFrame(copy);
    });
  }
}
