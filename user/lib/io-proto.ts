// The I/O protocols of the user-level drivers, defined once (docs/DRIVERS.md). Only numeric
// `export const`s, so this file is both AssemblyScript (the drivers and clients import it) and
// TypeScript (the test rig and the benchmark import it): keep it that way.
//
// Every address below is a virtual address outside wasm linear memory (above LINEAR_MAX +
// GUARD_SIZE, below CODE_BASE); programs reach it with the `l4.peek`/`l4.poke` intrinsics.

// ---- Virtual address map of a driver or client task ------------------------------------------
/** Start-information page (read-only): the configuration words below (Cfg*, CliCfg*). */
export const START_VA = 0x9000_0000;
/** Driver: the device's register page (an IoMem capability mapped read-write). */
export const MMIO_VA = 0x9001_0000;
/** Driver: its private DMA frame (virtqueue, indirect tables, request headers, status words). */
export const PRIV_VA = 0x9100_0000;
/** Driver: client k's ring page at RINGS_VA + k * 0x1000. Client: its ring page at RINGS_VA. */
export const RINGS_VA = 0x9800_0000;
/** Client: its data frame (shared with the device through the driver's DMA window 1 + k). */
export const DATA_VA = 0xa000_0000;

// ---- Driver start information (words at START_VA + 4 * index) --------------------------------
export const CFG_MAGIC = 0; // "BLKD"
export const CFG_ENDPOINT = 1; // slot: the driver's service endpoint (Read)
export const CFG_IRQ = 2; // slot: IrqHandler of the device
export const CFG_IRQ_NTFN = 3; // slot: notification the IRQ is bound to (Read)
export const CFG_DMA = 4; // slot: DmaWindow capability of the device
export const CFG_PRIV_FRAME = 5; // slot: the private DMA frame (PRIV_PAGES pages, mapped at PRIV_VA)
export const CFG_FLAGS = 6; // DRV_F_*
export const CFG_NCLIENTS = 7;
export const CFG_MMIO = 8; // slot: the device's register page (IoMem)
/** Client k (1..MAX_CLIENTS) at CFG_CLIENTS + (k - 1) * CLIENT_WORDS. */
export const CFG_CLIENTS = 16;
export const CLIENT_WORDS = 8;
export const CL_FLAGS = 0; // CLF_*
export const CL_BASE = 1; // first sector of the virtual block device on the disk
export const CL_SECTORS = 2; // its size in sectors
export const CL_DATA_FRAME = 3; // slot: the client's data frame (the device may DMA into it)
export const CL_DATA_BYTES = 4; // its size
export const CL_NTFN = 5; // slot: the client's notification (Write): ring responses
export const CL_RING = 6; // 1 if the client has a ring page at RINGS_VA + k * 0x1000

export const CFG_MAGIC_BLK = 0x424c4b44;
export const MAX_CLIENTS = 7;
/** CL_FLAGS bits. */
export const CLF_PRESENT = 1;
export const CLF_WRITE = 2;
/** CL_SECTORS: the rest of the disk from CL_BASE (the driver reads the capacity). */
export const BLK_WHOLE_DISK = 0xffff_ffff;
/** CFG_FLAGS bits: test variants. */
export const DRV_F_EVIL_DMA = 1; // program the first data buffer outside every DMA window
export const DRV_F_VERBOSE = 2;
/** With DRV_F_EVIL_DMA (block driver): the misdirected request's status byte too, so the device
 *  cannot report the refused buffer and fails instead (DEVICE_NEEDS_RESET): the driver resets it. */
export const DRV_F_EVIL_RESET = 8;

/** Pages of the driver's private DMA frame (a power of two). */
export const PRIV_PAGES = 4;
/** Virtqueue size the driver uses (one request = one ring descriptor -> 3-entry indirect table). */
export const VQ_SIZE = 128;
/** Layout of the private frame (byte offsets). */
export const PRIV_DESC = 0x0000; // 16 * VQ_SIZE
export const PRIV_AVAIL = 0x0800; // 4 + 2 * VQ_SIZE + 2
export const PRIV_USED = 0x0a00; // 4 + 8 * VQ_SIZE + 2
export const PRIV_INDIRECT = 0x1000; // 48 bytes per slot
export const PRIV_HDR = 0x3000; // 16 bytes per slot
export const PRIV_STATUS = 0x3800; // 4 bytes per slot (the device writes the low byte)

// ---- Synchronous interface: Call on the client's badged endpoint capability -------------------
/** Labels. MR0 = sector (in the virtual device), MR1 = sectors (1..8), MR2 = byte offset in the
 *  client's data frame (a multiple of 512). Reply label 0, MR0 = status (BLK_S_*). */
export const BLK_OP_READ = 1;
export const BLK_OP_WRITE = 2;
export const BLK_OP_FLUSH = 3;
/** Reply MR0 = status, MR1 = sectors of the virtual device, MR2 = 1 if writable. */
export const BLK_OP_INFO = 4;
/** One-way message (Send / NbSend, no reply): "look at my ring". */
export const BLK_KICK = 5;
/** Connect at run time (a client whose CL_DATA_FRAME is 0 in the driver's start information):
 *  the call carries capabilities — its data frame, its notification (Write) and, for the ring
 *  interface, its one-page ring frame — through an endpoint capability with Grant. Reply as
 *  INFO. The driver checks each capability's type and rights before it uses it. */
export const BLK_OP_CONNECT = 6;
/** Driver: where capabilities arrive (UTCB RecvSlot), and where client k's end up. */
export const DRV_STAGE_SLOT = 40;
export const DRV_CONN_SLOT = 64; // + 4 * k + i
export const BLK_MAX_SECTORS = 8;

export const BLK_S_OK = 0;
export const BLK_S_IOERR = 1;
export const BLK_S_UNSUPP = 2;
/** Refused by the driver: out of range, read-only device, bad buffer. */
export const BLK_S_DENIED = 3;

// ---- Asynchronous interface: one shared ring page per client (Xen io/ring.h) ------------------
// Header words, then RING_SIZE entries of 16 bytes; a response overwrites the request slot it
// answers, as in Xen (the union of request and response).
export const RING_REQ_PROD = 0;
export const RING_REQ_EVENT = 4;
export const RING_RSP_PROD = 8;
export const RING_RSP_EVENT = 12;
export const RING_HDR_BYTES = 64;
export const RING_SIZE = 128;
export const RING_ENTRY_BYTES = 16;
/** Request: id, op (BLK_OP_*) | sectors << 8, sector, buffer offset. */
export const REQ_ID = 0;
export const REQ_OP = 4;
export const REQ_SECTOR = 8;
export const REQ_OFFSET = 12;
/** Response: id, op, status. */
export const RSP_ID = 0;
export const RSP_OP = 4;
export const RSP_STATUS = 8;

// ---- Client start information (the test and benchmark client, user/drivers/blk/client.ts) ----
export const CC_MAGIC = 0; // "BLKC"
export const CC_EP = 1; // slot: the driver's endpoint, badged with the client's number (Write)
export const CC_NTFN = 2; // slot: the client's notification (Read): ring responses
export const CC_MODE = 3; // CM_*
export const CC_OPS = 4; // requests to make
export const CC_QD = 5; // queue depth (ring modes)
export const CC_SEED = 6; // PRNG seed (nonzero)
export const CC_BLOCKS = 7; // 4 KiB blocks of the virtual device to use (a power of two)
export const CC_DATA_OFF = 8; // first byte of the data frame this task may use
export const CC_OPKIND = 9; // bench: BLK_OP_READ or BLK_OP_WRITE
export const CC_HAS_RING = 10; // 1 if a ring page is mapped at RINGS_VA
export const CC_CONNECT = 11; // 1: connect at run time, passing the capabilities below
export const CC_RETRY = 12; // 1: retry a request answered BLK_S_IOERR (at most CC_MAX_RETRIES times), counting them
export const CC_MAX_RETRIES = 8;
export const CLIENT_DATA_SLOT = 18; // the client's data frame capability (connect)
export const CLIENT_RING_SLOT = 19; // its ring frame capability (connect)
export const CFG_MAGIC_CLIENT = 0x424c4b43;
export const CM_SYNC_INTEGRITY = 1;
export const CM_RING_INTEGRITY = 2;
export const CM_SYNC_BENCH = 3;
export const CM_RING_BENCH = 4;
export const CM_RING_SCRIBBLE = 5;
export const CM_SYNC_PROBE = 6;
/** Stride between the blocks of one batch (odd, so a batch of at most CC_BLOCKS is distinct). */
export const BATCH_STRIDE = 7919;

// ---- Network driver (user/drivers/net/main.ts) -------------------------------------------------
// Start information: the CFG_* words above (CFG_FLAGS may hold NET_F_FORWARDER), clients at
// CFG_CLIENTS with CL_FLAGS, NCL_MAC_LO/HI (the client's MAC: bytes 0..3 and 4..5, little
// endian), CL_DATA_FRAME, CL_DATA_BYTES, CL_NTFN, CL_RING (two ring pages: TX, then RX).
export const NCL_MAC_LO = 1;
export const NCL_MAC_HI = 2;
/** The IRQ forwarder: the same program, started with this flag, waits on the IRQ notification
 *  and passes each interrupt to the driver's endpoint (label NET_IRQ): an L4 thread waits on one
 *  object, and the driver waits on its endpoint. */
export const NET_F_FORWARDER = 4;
/** Driver: client k's data frame mapped at NET_DRV_DATA_VA + k * 0x0100_0000 (received frames
 *  are copied into it). Its ring pages at RINGS_VA + k * 0x2000 (TX) and + 0x1000 (RX). */
export const NET_DRV_DATA_VA = 0xb000_0000;
/** Client: TX ring at RINGS_VA, RX ring at NET_RX_RING_VA. */
export const NET_RX_RING_VA = 0x9800_1000;
export const NET_PRIV_PAGES = 64;
export const NET_RXQ_SIZE = 64;
export const NET_TXQ_SIZE = 64;
export const NET_PRIV_RXQ_DESC = 0x0000;
export const NET_PRIV_RXQ_AVAIL = 0x0400;
export const NET_PRIV_RXQ_USED = 0x0600;
export const NET_PRIV_TXQ_DESC = 0x1000;
export const NET_PRIV_TXQ_AVAIL = 0x1400;
export const NET_PRIV_TXQ_USED = 0x1500;
export const NET_PRIV_TXHDR = 0x2000; // 16 bytes per TX slot (12-byte virtio_net_hdr)
export const NET_PRIV_RXBUF = 0x4000; // NET_RXQ_SIZE buffers of NET_RXBUF_BYTES
export const NET_RXBUF_BYTES = 2048;
export const NET_FRAME_MAX = 1518;
/** Frames queued per client before the driver drops (it holds the receive buffer meanwhile). */
export const NET_CLIENT_QUEUE = 64;

/** Sync labels: TX (MR0 offset, MR1 length) -> MR0 status; RX (MR0 offset, MR1 room) -> MR0
 *  status (NET_S_EMPTY: nothing queued; the driver signals the client's notification when a
 *  frame arrives), MR1 length; INFO -> MR1/MR2 = the client's MAC (lo, hi). */
export const NET_OP_TX = 1;
export const NET_OP_RX = 2;
export const NET_OP_INFO = 4;
export const NET_KICK = 5;
export const NET_IRQ = 6;
/** Connect at run time (a client started from a manifest: CL_DATA_FRAME 0 in the driver's start
 *  information), through an endpoint capability with Grant: its data frame (RW), its
 *  notification (Write: received frames, ring responses) and, for the rings, one two-page ring
 *  frame (TX ring page, then RX ring page). Reply MR0 = status, MR1/MR2 = its MAC (as INFO). */
export const NET_OP_CONNECT = 7;
export const NET_S_EMPTY = 4;
/** Ring entries (both rings): request id, offset, length (TX) or room (RX); response id,
 *  status, length. */
export const NREQ_ID = 0;
export const NREQ_OFFSET = 4;
export const NREQ_LEN = 8;
export const NRSP_ID = 0;
export const NRSP_STATUS = 4;
export const NRSP_LEN = 8;
/** Net client modes (user/drivers/net/client.ts), CC_* words plus these. */
export const NM_ECHO_SYNC = 11;
export const NM_ECHO_RING = 12;
export const NM_PING_SYNC = 13;
export const NM_PING_RING = 14;
/** Tries to send with another client's source address and from outside its data frame (sync
 *  and ring); every attempt must be refused. */
export const NM_SPOOF = 15;
export const NC_PEER_LO = 11;
export const NC_PEER_HI = 12;
export const NC_LEN = 13;
/** 1: benchmark mode: payloads are written once per buffer and only spot-checked. */
export const NC_FAST = 14;
/** 1: the network may lose frames (ping clients): a receive buffer answered BLK_S_IOERR (a device
 *  reset) is posted again, a transmit answered BLK_S_IOERR is sent again, both counted, not
 *  failures; when no echo came for NC_LOSS_TICKS, the frames still out are counted lost. The
 *  client logs what it counted. */
export const NC_LOSSY = 15;
export const NC_LOSS_TICKS = 200_000; // mtime ticks: 20 ms at 10 MHz
export const NET_ETHERTYPE = 0x88b5;
