// The memory manager: the pager of every component and the keeper of its memory quota
// (docs/USERLAND.md "Memory manager"). It serves the "memory" service (user/idl/memory.json)
// and the page faults of its clients on one endpoint (Endpoint(pager), badge = client).
//
// Like sigma0 and L4 pagers, it keeps in its own address space everything it hands out and maps
// pages to clients with map items in the fault reply:
//   - each client's image frames (the ELF file, RX) in an image window: code and read-only data
//     are mapped from there directly (shared, never copied);
//   - frames retyped from the client's own untyped quota, in chunks of up to 16 pages, in a
//     memory window: writable image pages (copied from the file), linear memory and stack
//     pages come from there, zeroed by the kernel's retype.
// Nothing is freed page by page: a client's pages go back all at once when the supervisor
// resets it (revoking its untyped).

import { Method, ObjType, Rights, Err, UnmapFlags, FaultLabel, STACK_TOP, STACK_SIZE, CompSlot, DATA_BASE, RtData } from '../lib/abi';
import { invoke, res, peek, poke, fpage, debugPrint } from '../lib/l4';
import { START_INFO_BASE, START_INFO_MAGIC, StartHdr, MemClient, MemClientFlags, NAME_WORDS } from '../lib/bootplan';
import { MemoryServer, MemoryStatsResult, MemoryShareAllocResult, memoryDispatch } from '../lib/gen/memory';
import { SUPERVISOR_MEM_FAULT } from '../lib/gen/supervisor';
import { now } from '../lib/time';
import {
  mr, reply, msgInfo, infoLength, setMapItem, setRecvSlot, storeMrs, takeMessage, sysNbSend, sysRecv, sysReplyRecv, sysRes,
  NO_REPLY, REPLIED,
} from '../lib/gen/rt';

const PAGE: u32 = 4096;
const WASM_PAGE_PAGES: u32 = 16;
const MAX_CLIENTS: i32 = 32;
const MAX_SEGS: i32 = 8;
const MAX_PIECES: i32 = 24;
const CSPACE_SLOTS: i32 = 256;
const CHUNK_BITS: i32 = 4;
/** Image windows: 4 MiB per client from IMG_BASE; memory windows from MEM_BASE. */
const IMG_BASE: u32 = 0x2000_0000;
const IMG_STRIDE: u32 = 0x0040_0000;
const MEM_BASE: u32 = 0x3000_0000;
const MEM_END: u32 = 0x7f00_0000;
const SELF_TASK: i32 = CompSlot.Task;
/** Heap reserve of the memory manager (it has no pager, and a memory.grow of its own would be
 *  a call to itself): at most this many pages of its own quota, as one-page frames in
 *  consecutive slots that its runtime maps page by page as memory.grow needs them
 *  (RtData.LinearFrameFirst). One slot a page out of the 256 of its capability space, which
 *  also holds its clients' chunk frames: 32 pages (128 KiB, twice its initial memory; it has
 *  not needed to grow at all so far) rather than 64. */
const SELF_HEAP_PAGES: u32 = 32;

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;

// --- per-client state (index = position in the start-information table) ---
let nClients: i32 = 0;
const cBadge = new StaticArray<u32>(MAX_CLIENTS);
const cUntSlot = new StaticArray<i32>(MAX_CLIENTS);
const cUntCount = new StaticArray<i32>(MAX_CLIENTS);
const cQuota = new StaticArray<u32>(MAX_CLIENTS);
const cTask = new StaticArray<i32>(MAX_CLIENTS);
const cImgSlot = new StaticArray<i32>(MAX_CLIENTS);
const cImgFrames = new StaticArray<i32>(MAX_CLIENTS);
const cImgBytes = new StaticArray<u32>(MAX_CLIENTS);
const cImgMapped = new StaticArray<bool>(MAX_CLIENTS);
const cFlags = new StaticArray<i32>(MAX_CLIENTS);
const cSegCount = new StaticArray<i32>(MAX_CLIENTS);
const segVaddr = new StaticArray<u32>(MAX_CLIENTS * MAX_SEGS);
const segMemsz = new StaticArray<u32>(MAX_CLIENTS * MAX_SEGS);
const segFilesz = new StaticArray<u32>(MAX_CLIENTS * MAX_SEGS);
const segOff = new StaticArray<u32>(MAX_CLIENTS * MAX_SEGS);
const segFlags = new StaticArray<u32>(MAX_CLIENTS * MAX_SEGS);
/** Linear memory: the image's initial size and the size granted so far, in wasm pages. */
const cInitPages = new StaticArray<u32>(MAX_CLIENTS);
/** End of the linear memory's initial contents in the image (the segment at 0), page-aligned. */
const cInitEnd = new StaticArray<u32>(MAX_CLIENTS);
const cMemPages = new StaticArray<u32>(MAX_CLIENTS);
/** Writable image pages outside linear memory (runtime data): committed at start. */
const cDataPages = new StaticArray<u32>(MAX_CLIENTS);
/** Memory window: base, pages retyped into it, pages handed out. */
const cWin = new StaticArray<u32>(MAX_CLIENTS);
const cWinPages = new StaticArray<u32>(MAX_CLIENTS);
const cChunkPages = new StaticArray<u32>(MAX_CLIENTS);
const cNextPage = new StaticArray<u32>(MAX_CLIENTS);
/** Untyped pieces: size in pages and our mirror of the kernel's watermark (pages). */
const pieceSize = new StaticArray<u32>(MAX_CLIENTS * MAX_PIECES);
const pieceWm = new StaticArray<u32>(MAX_CLIENTS * MAX_PIECES);
const cStack = new StaticArray<u32>(MAX_CLIENTS);
const cShared = new StaticArray<u32>(MAX_CLIENTS);
const cFaults = new StaticArray<u32>(MAX_CLIENTS);
const cBadFaults = new StaticArray<u32>(MAX_CLIENTS);
const cLastBadAddr = new StaticArray<u32>(MAX_CLIENTS);
const cLastBadPc = new StaticArray<u32>(MAX_CLIENTS);
/** A refused fault of this life was logged here (no supervisor took the report): log once. */
const cLogged = new StaticArray<bool>(MAX_CLIENTS);
/** Start-information word of the client's name (MemClient.Name). */
const cNameWord = new StaticArray<i32>(MAX_CLIENTS);
/** badge -> client index + 1 (0 = not a client). */
const byBadge = new StaticArray<i32>(256);
/** Slot -> client index + 1 of the frame made from its quota there (0 = free or not ours). */
const slotOwner = new StaticArray<i32>(CSPACE_SLOTS);
let firstFree: i32 = 16;
let memBump: u32 = MEM_BASE;
let supervisorBadge: u32 = 0;
/** Whether we hold the supervisor's endpoint (CompSlot.Supervisor) to report refused faults. */
let haveSupervisor = false;
/** Fault reports the supervisor was not waiting for (supervisor.memFault is a NbSend): per
 *  client the report, sent again at every later receive of ours and every RETRY_TICKS. */
const cPending = new StaticArray<bool>(MAX_CLIENTS);
const pAddr = new StaticArray<u32>(MAX_CLIENTS);
const pPc = new StaticArray<u32>(MAX_CLIENTS);
const pAccess = new StaticArray<u32>(MAX_CLIENTS);
const pReason = new StaticArray<u32>(MAX_CLIENTS);
const pSince = new StaticArray<i64>(MAX_CLIENTS);
let pendingReports: i32 = 0;
/** 2 ms in mtime ticks (StartHdr.TimerHz / 500); a report not taken within a second
 *  (giveUpTicks) is logged here instead. */
let retryTicks: i32 = 20_000;
let giveUpTicks: i64 = 10_000_000;
/** The reply prepared while reports are sent again (they use `mr`). */
const savedMr = new StaticArray<i32>(64);

function si(word: i32): i32 {
  return peek(START_INFO_BASE + word * 4);
}

function allocSlot(owner: i32): i32 {
  for (let s = firstFree; s < CSPACE_SLOTS; s++) {
    if (unchecked(slotOwner[s]) == 0) {
      // The slot may still hold something we do not track (never: firstFree is past all grants).
      unchecked(slotOwner[s] = owner + 1);
      return s;
    }
  }
  return 0;
}

/** The slot allocSlot would return next, or 0. */
function nextFreeSlot(): i32 {
  for (let s = firstFree; s < CSPACE_SLOTS; s++) if (unchecked(slotOwner[s]) == 0) return s;
  return 0;
}

function log2(n: u32): i32 {
  return 31 - <i32>clz(n);
}

/** Retype a frame of 2^bits pages from client c's quota into a fresh slot; 0 if it does not fit. */
function retypeFrame(c: i32, bits: i32): i32 {
  const size: u32 = 1 << bits;
  const align: u32 = size < 1024 ? size : 1024;
  for (let j = 0; j < unchecked(cUntCount[c]); j++) {
    const k = c * MAX_PIECES + j;
    const wm = unchecked(pieceWm[k]);
    const start = (wm + align - 1) & ~(align - 1);
    if (start + size > unchecked(pieceSize[k])) continue;
    const slot = allocSlot(c);
    if (slot == 0) return 0;
    const err = invoke(unchecked(cUntSlot[c]) + j, Method.UntypedRetype, ObjType.Frame, bits, 1, slot);
    if (err != 0) { unchecked(slotOwner[slot] = 0); continue; }
    unchecked(pieceWm[k] = start + size);
    return slot;
  }
  return 0;
}

/** A fresh zeroed page of client c's quota, mapped RW in our memory window: its address here,
 *  or 0 when the quota (or the window) is exhausted. */
function allocPage(c: i32): u32 {
  const next = unchecked(cNextPage[c]);
  if (next >= unchecked(cQuota[c]) - unchecked(cShared[c])) return 0;
  if (next == unchecked(cChunkPages[c])) {
    // Retype another chunk: 16 pages, or the largest power of two that still fits.
    let bits = CHUNK_BITS;
    let slot = 0;
    while (bits >= 0) {
      if (unchecked(cChunkPages[c]) + (<u32>1 << bits) <= unchecked(cWinPages[c])) {
        slot = retypeFrame(c, bits);
        if (slot != 0) break;
      }
      bits--;
    }
    if (slot == 0) return 0;
    const va = unchecked(cWin[c]) + unchecked(cChunkPages[c]) * PAGE;
    if (invoke(slot, Method.FrameMap, SELF_TASK, <i32>va, Rights.Read | Rights.Write) != 0) return 0;
    unchecked(cChunkPages[c] = unchecked(cChunkPages[c]) + (<u32>1 << bits));
  }
  unchecked(cNextPage[c] = next + 1);
  return unchecked(cWin[c]) + next * PAGE;
}

/** Map client c's image frames into its image window (once). */
function mapImage(c: i32): bool {
  if (unchecked(cImgMapped[c])) return true;
  let va = IMG_BASE + <u32>c * IMG_STRIDE;
  for (let f = 0; f < unchecked(cImgFrames[c]); f++) {
    const slot = unchecked(cImgSlot[c]) + f;
    if (invoke(slot, Method.FrameInfo) != 0) return false;
    const pages = <u32>res(2);
    if (va + pages * PAGE > IMG_BASE + (<u32>c + 1) * IMG_STRIDE) return false;
    if (invoke(slot, Method.FrameMap, SELF_TASK, <i32>va, Rights.Read | Rights.Exec) != 0) return false;
    va += pages * PAGE;
  }
  unchecked(cImgMapped[c] = true);
  return true;
}

/** Read the program headers of client c's ELF (its PT_LOAD segments). */
function readSegments(c: i32): void {
  unchecked(cSegCount[c] = 0);
  if (unchecked(cImgFrames[c]) == 0 || !mapImage(c)) return;
  const img = IMG_BASE + <u32>c * IMG_STRIDE;
  const size = unchecked(cImgBytes[c]);
  if (size < 52 || load<u32>(img) != 0x464c457f) return;
  const phoff = load<u32>(img + 28);
  const phentsize = <u32>load<u16>(img + 42);
  const phnum = <u32>load<u16>(img + 44);
  let n = 0;
  for (let i: u32 = 0; i < phnum && n < MAX_SEGS; i++) {
    const h = img + phoff + i * phentsize;
    if (phoff + (i + 1) * phentsize > size) break;
    if (load<u32>(h) != PT_LOAD) continue;
    const k = c * MAX_SEGS + n;
    const off = load<u32>(h + 4);
    const filesz = load<u32>(h + 16);
    if (off + filesz > size) continue;
    unchecked(segOff[k] = off);
    unchecked(segVaddr[k] = load<u32>(h + 8));
    unchecked(segFilesz[k] = filesz);
    unchecked(segMemsz[k] = load<u32>(h + 20));
    unchecked(segFlags[k] = load<u32>(h + 24));
    n++;
  }
  unchecked(cSegCount[c] = n);
}

function pagesOf(bytes: u32): u32 {
  return (bytes + PAGE - 1) / PAGE;
}

/** Committed pages: what client c has been promised. */
function committed(c: i32): u32 {
  return unchecked(cMemPages[c]) * WASM_PAGE_PAGES + unchecked(cDataPages[c]) + unchecked(cStack[c]) + unchecked(cShared[c]);
}

function resetCounters(c: i32): void {
  unchecked(cMemPages[c] = unchecked(cInitPages[c]));
  unchecked(cChunkPages[c] = 0);
  unchecked(cNextPage[c] = 0);
  unchecked(cStack[c] = 0);
  unchecked(cShared[c] = 0);
  for (let j = 0; j < MAX_PIECES; j++) unchecked(pieceWm[c * MAX_PIECES + j] = 0);
}

function setUpClient(c: i32, e: i32): void {
  unchecked(cBadge[c] = <u32>si(e + MemClient.Badge));
  unchecked(cUntSlot[c] = si(e + MemClient.UntypedSlot));
  unchecked(cUntCount[c] = min(si(e + MemClient.UntypedCount), MAX_PIECES));
  const quota = <u32>si(e + MemClient.QuotaPages);
  unchecked(cQuota[c] = quota);
  unchecked(cTask[c] = si(e + MemClient.TaskSlot));
  unchecked(cImgSlot[c] = si(e + MemClient.ImageSlot));
  unchecked(cImgFrames[c] = si(e + MemClient.ImageFrames));
  unchecked(cImgBytes[c] = <u32>si(e + MemClient.ImageBytes));
  unchecked(cFlags[c] = si(e + MemClient.Flags));
  unchecked(cNameWord[c] = e + MemClient.Name);
  // The quota's pieces, as the root task splits it (src/abi/bootplan.ts PlanObjKind.Untyped):
  // 1024 pages while at least 1024 remain, then one per set bit, largest first.
  let rest = quota;
  for (let j = 0; j < unchecked(cUntCount[c]); j++) {
    let p: u32 = 0;
    if (rest >= 1024) p = 1024;
    else if (rest > 0) p = <u32>1 << log2(rest);
    unchecked(pieceSize[c * MAX_PIECES + j] = p);
    rest -= p;
  }
  const win = (quota + 15) & ~15;
  unchecked(cWin[c] = memBump);
  unchecked(cWinPages[c] = win);
  memBump += win * PAGE;
  if (memBump > MEM_END) { unchecked(cWinPages[c] = 0); }
  readSegments(c);
  let init: u32 = 0;
  let data: u32 = 0;
  for (let i = 0; i < unchecked(cSegCount[c]); i++) {
    const k = c * MAX_SEGS + i;
    if (unchecked(segVaddr[k]) == 0) {
      init = unchecked(segMemsz[k]) / (WASM_PAGE_PAGES * PAGE);
      unchecked(cInitEnd[c] = (unchecked(segMemsz[k]) + PAGE - 1) & ~(PAGE - 1));
    }
    else if ((unchecked(segFlags[k]) & PF_W) != 0) data += pagesOf(unchecked(segMemsz[k]) + (unchecked(segVaddr[k]) & (PAGE - 1)));
  }
  unchecked(cInitPages[c] = init);
  unchecked(cDataPages[c] = data);
  resetCounters(c);
  if (unchecked(cBadge[c]) < 256) unchecked(byBadge[unchecked(cBadge[c])] = c + 1);
}

function clientOf(badge: u32): i32 {
  if (badge >= 256) return -1;
  return unchecked(byBadge[badge]) - 1;
}

function isSupervisor(badge: u32): bool {
  return supervisorBadge == 0 || badge == supervisorBadge;
}

/** Copy the file bytes of segment k that fall in the page at `va` into the page at `dst`. */
function copyFromImage(c: i32, k: i32, va: u32, dst: u32): void {
  const vaddr = unchecked(segVaddr[k]);
  const lo = va > vaddr ? va : vaddr;
  const fileEnd = vaddr + unchecked(segFilesz[k]);
  const hi = va + PAGE < fileEnd ? va + PAGE : fileEnd;
  if (hi <= lo) return;
  let src = IMG_BASE + <u32>c * IMG_STRIDE + unchecked(segOff[k]) + (lo - vaddr);
  let d = dst + (lo - va);
  let n = hi - lo;
  while (n >= 4 && ((src | d) & 3) == 0) {
    store<u32>(d, load<u32>(src));
    src += 4; d += 4; n -= 4;
  }
  while (n > 0) {
    store<u8>(d, load<u8>(src));
    src++; d++; n--;
  }
}

// Page-fault statistics for the benchmark (instructions are measured from outside).
let faultsServed: u32 = 0;

/** Reply to the fault with a map item of the page at `here` (our address) to `va`. */
function replyMap(here: u32, va: u32, rights: i32): i32 {
  setMapItem(<u32>((here & ~0xfff) | <u32>(rights & 7)), va);
  reply.info = msgInfo(0, 0, 0, true);
  faultsServed++;
  return REPLIED;
}

/** Why a fault is refused (supervisor.memFault `reason`). */
const NOT_MAPPED: u32 = 0;
const OUT_OF_MEMORY: u32 = 1;
const NOT_ALLOWED: u32 = 2;

function hex(v: u32): string {
  return "0x" + v.toString(16);
}

function clientName(c: i32): string {
  const w = unchecked(cNameWord[c]);
  let n = si(w);
  if (n < 0) n = 0;
  if (n > (NAME_WORDS - 1) * 4) n = (NAME_WORDS - 1) * 4;
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode((si(w + 1 + (i >> 2)) >>> ((i & 3) * 8)) & 0xff);
  return s;
}

/** supervisor.memFault (a NbSend, as the generated client sends it: we never wait for the
 *  supervisor, which may itself wait for us, for a page or in memory.reset). 0 = delivered;
 *  Err.WouldBlock when the supervisor is not waiting in its receive. Uses `mr`. */
function reportFault(client: u32, addr: u32, pc: u32, access: u32, reason: u32): i32 {
  unchecked(mr[0] = <i32>client);
  unchecked(mr[1] = <i32>addr);
  unchecked(mr[2] = <i32>pc);
  unchecked(mr[3] = <i32>access);
  unchecked(mr[4] = <i32>reason);
  storeMrs(5);
  return sysNbSend(CompSlot.Supervisor, msgInfo(SUPERVISOR_MEM_FAULT, 5, 0, false), unchecked(mr[0]), unchecked(mr[1]), unchecked(mr[2]), unchecked(mr[3]), 0);
}

/** Our own report of a refused fault: once per life of the client. */
function logRefused(c: i32, addr: u32, pc: u32, access: u32, reason: u32, why: string): void {
  if (unchecked(cLogged[c])) return;
  unchecked(cLogged[c] = true);
  debugPrint(clientName(c) + ": " + (access == 1 ? "write" : access == 2 ? "execute" : "read") + " page fault at " + hex(addr) +
    " (pc " + hex(pc) + ") refused: " + (reason == OUT_OF_MEMORY ? "out of memory (quota exhausted)" :
    reason == NOT_ALLOWED ? "access not allowed there" : "not in its memory") + "; " + why + "\n");
}

function setPending(c: i32, on: bool): void {
  if (unchecked(cPending[c]) == on) return;
  unchecked(cPending[c] = on);
  pendingReports += on ? 1 : -1;
}

/**
 * A fault we refuse: count it, report it to the supervisor (which logs it and stops the client),
 * send no reply. When the supervisor is not waiting, the report is kept and sent again
 * (retryReports); without a supervisor, or when it does not take the report within about a
 * second, we log it ourselves, once per life of the client: a refused fault is never silent.
 */
function refuse(c: i32, addr: u32, pc: u32, access: u32, reason: u32): i32 {
  unchecked(cBadFaults[c] = unchecked(cBadFaults[c]) + 1);
  unchecked(cLastBadAddr[c] = addr);
  unchecked(cLastBadPc[c] = pc);
  if (!haveSupervisor) {
    logRefused(c, addr, pc, access, reason, "no supervisor to stop it: it stays blocked");
    return NO_REPLY;
  }
  if (reportFault(unchecked(cBadge[c]), addr, pc, access, reason) == 0) {
    setPending(c, false);
    return NO_REPLY;
  }
  if (!unchecked(cPending[c])) unchecked(pSince[c] = now());
  unchecked(pAddr[c] = addr);
  unchecked(pPc[c] = pc);
  unchecked(pAccess[c] = access);
  unchecked(pReason[c] = reason);
  setPending(c, true);
  return NO_REPLY;
}

/** Send the kept reports again (the prepared reply, `n` words of `mr`, is kept). */
function retryReports(n: i32): void {
  for (let i = 0; i < n; i++) unchecked(savedMr[i] = unchecked(mr[i]));
  for (let c = 0; c < nClients; c++) {
    if (!unchecked(cPending[c])) continue;
    if (reportFault(unchecked(cBadge[c]), unchecked(pAddr[c]), unchecked(pPc[c]), unchecked(pAccess[c]), unchecked(pReason[c])) == 0) {
      setPending(c, false);
      continue;
    }
    if (now() - unchecked(pSince[c]) >= giveUpTicks) {
      setPending(c, false);
      logRefused(c, unchecked(pAddr[c]), unchecked(pPc[c]), unchecked(pAccess[c]), unchecked(pReason[c]),
        "the supervisor has not taken the report within a second: it stays blocked");
    }
  }
  for (let i = 0; i < n; i++) unchecked(mr[i] = unchecked(savedMr[i]));
}

/**
 * memoryServe with fault reports sent again: before every receive while one is kept, and on a
 * receive timeout of retryTicks (so a report reaches the supervisor even when nothing else
 * happens). Without kept reports it is memoryServe: Recv, then ReplyRecv, without a timeout.
 */
function serve(s: Memory, ep: u32): void {
  let withReply = false;
  while (true) {
    let n = 0;
    if (withReply) n = infoLength(reply.info);
    if (pendingReports > 0) retryReports(n);
    const timeout = pendingReports > 0 ? retryTicks : 0;
    setRecvSlot(s.recvSlot);
    let err: i32;
    if (withReply) {
      if (n > 4) storeMrs(n);
      err = sysReplyRecv(<i32>ep, reply.info, unchecked(mr[0]), unchecked(mr[1]), unchecked(mr[2]), unchecked(mr[3]), timeout);
    } else {
      err = sysRecv(<i32>ep, 0, 0, 0, 0, 0, timeout);
    }
    if (err != 0) { withReply = false; continue; }
    const info = takeMessage();
    withReply = memoryDispatch(s, info, <u32>sysRes(6)) != NO_REPLY;
  }
}

function pageFault(badge: u32, addr: u32, pc: u32, access: u32): i32 {
  const c = clientOf(badge);
  if (c < 0) return NO_REPLY;
  const va = addr & ~(PAGE - 1);
  unchecked(cFaults[c] = unchecked(cFaults[c]) + 1);
  // 0. The common case first: heap beyond the image's initial linear memory.
  if (va >= unchecked(cInitEnd[c]) && va < unchecked(cMemPages[c]) * WASM_PAGE_PAGES * PAGE) {
    const here = allocPage(c);
    if (here == 0) return refuse(c, addr, pc, access, OUT_OF_MEMORY);
    return replyMap(here, va, Rights.Read | Rights.Write);
  }
  // 1. Image segments (also after a reset of an eagerly loaded client).
  for (let i = 0; i < unchecked(cSegCount[c]); i++) {
    const k = c * MAX_SEGS + i;
    const vaddr = unchecked(segVaddr[k]);
    const memsz = unchecked(segMemsz[k]);
    if (va + PAGE <= vaddr || va >= vaddr + memsz) continue;
    const flags = unchecked(segFlags[k]);
    const rights = ((flags & PF_R) != 0 ? Rights.Read : 0) | ((flags & PF_W) != 0 ? Rights.Read | Rights.Write : 0) | ((flags & PF_X) != 0 ? Rights.Exec : 0);
    if (access == 1 && (flags & PF_W) == 0) return refuse(c, addr, pc, access, NOT_ALLOWED);
    if (access == 2 && (flags & PF_X) == 0) return refuse(c, addr, pc, access, NOT_ALLOWED);
    if (access == 0 && (flags & (PF_R | PF_W)) == 0) return refuse(c, addr, pc, access, NOT_ALLOWED);
    const fileEnd = vaddr + unchecked(segFilesz[k]);
    if ((flags & PF_W) == 0 && va >= vaddr && va + PAGE <= ((fileEnd + PAGE - 1) & ~(PAGE - 1))) {
      // Read-only or code: straight from the image frames (the file page holds only this
      // segment's bytes: wasm2rv starts every segment on a page of its own).
      if (!mapImage(c)) return refuse(c, addr, pc, access, NOT_MAPPED);
      return replyMap(IMG_BASE + <u32>c * IMG_STRIDE + unchecked(segOff[k]) + (va - vaddr), va, rights);
    }
    const here = allocPage(c);
    if (here == 0) return refuse(c, addr, pc, access, OUT_OF_MEMORY);
    copyFromImage(c, k, va, here);
    return replyMap(here, va, rights);
  }
  // 2. Linear memory granted so far.
  if (va < unchecked(cMemPages[c]) * WASM_PAGE_PAGES * PAGE) {
    const here = allocPage(c);
    if (here == 0) return refuse(c, addr, pc, access, OUT_OF_MEMORY);
    return replyMap(here, va, Rights.Read | Rights.Write);
  }
  // 3. The stack.
  if (va >= <u32>STACK_TOP - <u32>STACK_SIZE && va < <u32>STACK_TOP && access != 2) {
    if (committed(c) + 1 > unchecked(cQuota[c])) return refuse(c, addr, pc, access, OUT_OF_MEMORY);
    const here = allocPage(c);
    if (here == 0) return refuse(c, addr, pc, access, OUT_OF_MEMORY);
    unchecked(cStack[c] = unchecked(cStack[c]) + 1);
    return replyMap(here, va, Rights.Read | Rights.Write);
  }
  const inStack = va >= <u32>STACK_TOP - <u32>STACK_SIZE && va < <u32>STACK_TOP;
  return refuse(c, addr, pc, access, inStack ? NOT_ALLOWED : NOT_MAPPED);
}

class Memory extends MemoryServer {
  grow(badge: u32, delta: u32, current: u32, maximum: u32): i32 {
    const c = clientOf(badge);
    if (c < 0) return Err.InvalidArg;
    const cur = current > unchecked(cMemPages[c]) ? current : unchecked(cMemPages[c]);
    const want = cur + delta;
    if (want < cur || want > maximum || want > 32768) return Err.InvalidArg;
    if (want <= unchecked(cMemPages[c])) return 0;
    const extra = (want - unchecked(cMemPages[c])) * WASM_PAGE_PAGES;
    if (committed(c) + extra > unchecked(cQuota[c])) return Err.NoMemory;
    unchecked(cMemPages[c] = want);
    return 0;
  }

  stats(badge: u32, client: u32, out: MemoryStatsResult): i32 {
    const who = client == 0 ? badge : client;
    if (who != badge && !isSupervisor(badge)) return Err.NoRights;
    const c = clientOf(who);
    if (c < 0) return Err.InvalidArg;
    out.quota = unchecked(cQuota[c]);
    out.used = unchecked(cNextPage[c]) + unchecked(cShared[c]);
    out.committed = committed(c);
    out.memPages = unchecked(cMemPages[c]);
    out.shared = unchecked(cShared[c]);
    out.faults = unchecked(cFaults[c]);
    out.badFaults = unchecked(cBadFaults[c]);
    out.lastBadAddr = unchecked(cLastBadAddr[c]);
    out.lastBadPc = unchecked(cLastBadPc[c]);
    return 0;
  }

  shareAlloc(badge: u32, pages: u32, out: MemoryShareAllocResult): i32 {
    const c = clientOf(badge);
    if (c < 0) return Err.InvalidArg;
    if (pages == 0 || pages > 1024 || (pages & (pages - 1)) != 0) return Err.InvalidArg;
    if (committed(c) + pages > unchecked(cQuota[c])) return Err.NoMemory;
    if (unchecked(cNextPage[c]) + unchecked(cShared[c]) + pages > unchecked(cQuota[c])) return Err.NoMemory;
    const slot = retypeFrame(c, log2(pages));
    if (slot == 0) return Err.NoMemory;
    if (invoke(slot, Method.FrameInfo) != 0) return Err.NoMemory;
    out.phys = <u32>res(1);
    out.frame = <u32>slot;
    unchecked(cShared[c] = unchecked(cShared[c]) + pages);
    return 0;
  }

  reset(badge: u32, client: u32): i32 {
    if (!isSupervisor(badge)) return Err.NoRights;
    const c = clientOf(client);
    if (c < 0 || (unchecked(cFlags[c]) & MemClientFlags.Self) != 0) return Err.InvalidArg;
    const task = unchecked(cTask[c]);
    // Everything below 0xe000_0000: linear memory and its guard, code, data, stack (not the
    // start information page nor the UTCB).
    invoke(task, Method.TaskUnmap, fpage(0, 19, 0), UnmapFlags.Self);
    invoke(task, Method.TaskUnmap, fpage(<i32>0x8000_0000, 18, 0), UnmapFlags.Self);
    invoke(task, Method.TaskUnmap, fpage(<i32>0xc000_0000, 17, 0), UnmapFlags.Self);
    for (let j = 0; j < unchecked(cUntCount[c]); j++) invoke(SELF_TASK, Method.CapRevoke, unchecked(cUntSlot[c]) + j);
    for (let s = 0; s < CSPACE_SLOTS; s++) if (unchecked(slotOwner[s]) == c + 1) unchecked(slotOwner[s] = 0);
    unchecked(cFlags[c] = unchecked(cFlags[c]) & ~MemClientFlags.EagerLoaded);
    unchecked(cLogged[c] = false);
    setPending(c, false); // a report of its previous life
    resetCounters(c);
    return 0;
  }

  other(badge: u32, info: i32): i32 {
    if (<u32>info >>> 12 == <u32>FaultLabel.PageFault) return pageFault(badge, <u32>unchecked(mr[0]), <u32>unchecked(mr[1]), <u32>unchecked(mr[2]));
    return Err.InvalidCall;
  }
}

/**
 * Reserve up to SELF_HEAP_PAGES of our own quota as linear memory right above what the root
 * task mapped for us: one-page frames in consecutive slots, left unmapped, with
 * RtData.LinearFrameFirst = the slot of (virtual) page 0 and RtData.MemReserved raised over
 * them. Our memory.grow then needs nobody: the runtime maps each new page itself (FrameMap on
 * CompSlot.Task = BootSlot.Task), so the pages past our current size stay unmapped and an
 * out-of-bounds access of our own traps (docs/WASM2RV.md "memory.grow").
 */
function reserveOwnHeap(c: i32): void {
  const reservedAddr = DATA_BASE + RtData.MemReserved;
  const reserved = <u32>peek(reservedAddr) & ~(WASM_PAGE_PAGES - 1); // 4 KiB pages, mapped
  let pages = unchecked(cQuota[c]) < SELF_HEAP_PAGES ? unchecked(cQuota[c]) : SELF_HEAP_PAGES;
  pages &= ~(WASM_PAGE_PAGES - 1);
  if (pages == 0) return;
  // LinearFrameFirst = first slot - reserved must not be 0 (that means "mapped already").
  if (nextFreeSlot() == <i32>reserved) allocSlot(c); // one slot left empty
  let first = 0;
  let done: u32 = 0;
  while (done < pages) {
    const slot = retypeFrame(c, 0);
    if (slot == 0) break;
    if (first == 0) first = slot;
    if (slot != first + <i32>done) { // not consecutive: give it back, stop here
      invoke(SELF_TASK, Method.CapDelete, slot);
      unchecked(slotOwner[slot] = 0);
      break;
    }
    done++;
    unchecked(cNextPage[c] = unchecked(cNextPage[c]) + 1);
    unchecked(cChunkPages[c] = unchecked(cChunkPages[c]) + 1);
  }
  done &= ~(WASM_PAGE_PAGES - 1); // memory.grow uses whole wasm pages of the reserve
  if (done == 0) return;
  poke(DATA_BASE + RtData.LinearFrameFirst, first - <i32>reserved);
  poke(reservedAddr, <i32>(reserved + done));
}

export function main(): i32 {
  if (si(StartHdr.Magic) != START_INFO_MAGIC) return 1;
  const ep = si(StartHdr.Endpoint);
  supervisorBadge = <u32>si(StartHdr.SupervisorBadge);
  const count = si(StartHdr.EntryCount);
  const words = si(StartHdr.EntryWords);
  const table = si(StartHdr.EntryTable);
  // Free slots start after everything the root task gave us.
  let last = ep;
  for (let i = 0; i < count; i++) {
    const e = table + i * words;
    const u = si(e + MemClient.UntypedSlot) + si(e + MemClient.UntypedCount) - 1;
    const t = si(e + MemClient.TaskSlot);
    const im = si(e + MemClient.ImageSlot) + si(e + MemClient.ImageFrames) - 1;
    if (u > last) last = u;
    if (t > last) last = t;
    if (im > last) last = im;
  }
  firstFree = last + 1 > CompSlot.FirstFree ? last + 1 : CompSlot.FirstFree;
  for (let i = 0; i < count && nClients < MAX_CLIENTS; i++) {
    setUpClient(nClients, table + i * words);
    if ((unchecked(cFlags[nClients]) & MemClientFlags.Self) != 0) reserveOwnHeap(nClients);
    nClients++;
  }
  // Report refused faults to the supervisor if we hold its endpoint.
  haveSupervisor = invoke(SELF_TASK, Method.CapIdentify, CompSlot.Supervisor) == 0 && res(1) == ObjType.Endpoint;
  const hz = si(StartHdr.TimerHz);
  if (hz >= 500) {
    retryTicks = hz / 500;
    giveUpTicks = <i64>hz;
  }
  serve(new Memory(), ep);
  return 0;
}
