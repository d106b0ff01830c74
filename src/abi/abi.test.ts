// Pins every number and offset of the ABI: changing one is an ABI break and must change here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sys, Method, MapFlags, UnmapFlags, DmaFlags, ThreadState, REG_A0, REG_A7, MSG_REGS_IN_CPU, SYS_COUNT } from './sys.ts';
import { Err, errName } from './errors.ts';
import { msgInfo, decodeMsgInfo, fpage, FaultLabel, ExcReply, MSG_MAX, MSGINFO_MAP, MSGINFO_GRANT } from './message.ts';
import { Utcb, UTCB_SIZE } from './utcb.ts';
import { Rights, ObjType, BootSlot, BootInfo, BOOTINFO_MAGIC, ROOT_CSPACE_SLOTS, CSPACE_SLOTS, PRIO_MAX } from './caps.ts';
import { UTCB_BASE, BOOTINFO_BASE, MODULES_BASE, CODE_BASE, STACK_TOP } from './layout.ts';
import { MTIME_HZ } from './runtime.ts';
import { DEFAULT_TIMER_HZ } from '../machine/clock.ts';

test('system-call numbers and registers', () => {
  assert.deepEqual(Sys, { Call: 0, Send: 1, NbSend: 2, Recv: 3, NbRecv: 4, Reply: 5, ReplyRecv: 6, Yield: 7, Invoke: 8, DebugPutc: 9 });
  assert.equal(SYS_COUNT, 10);
  assert.equal(REG_A0, 10);
  assert.equal(REG_A7, 17);
  assert.equal(MSG_REGS_IN_CPU, 4);
});

test('methods and flags', () => {
  assert.deepEqual(Method, {
    CapCopy: 0x10, CapMint: 0x11, CapMove: 0x12, CapDelete: 0x13, CapRevoke: 0x14, CapIdentify: 0x15,
    TaskMap: 0x18, TaskUnmap: 0x19, UntypedRetype: 0x20, FrameMap: 0x28, FrameUnmap: 0x29, FrameInfo: 0x2a,
    ThreadConfigure: 0x30, ThreadSetRegs: 0x31, ThreadSetPriority: 0x32, ThreadSetMcp: 0x33, ThreadResume: 0x34,
    ThreadSuspend: 0x35, ThreadBindSc: 0x36, ThreadReadRegs: 0x37, ScConfigure: 0x40, ScInfo: 0x41,
    IrqSetNotification: 0x48, IrqAck: 0x49, IrqClear: 0x4a, DmaSetWindow: 0x50, DmaClearWindow: 0x51,
    DebugName: 0x60,
  });
  assert.deepEqual(MapFlags, { Grant: 1 });
  assert.deepEqual(UnmapFlags, { Self: 1 });
  assert.deepEqual(DmaFlags, { DeviceRead: 1, DeviceWrite: 2 });
  assert.deepEqual(ThreadState, { Inactive: 0, Running: 1, Ready: 2, BlockedSend: 3, BlockedRecv: 4, BlockedReply: 5, BlockedNotification: 6, Throttled: 7 });
});

test('error codes have names', () => {
  assert.deepEqual(Object.values(Err), [...Array(16).keys()]);
  assert.equal(errName(Err.NoRights), 'NoRights');
  assert.equal(errName(99), 'Err(99)');
});

test('message-info word and fpage layout', () => {
  assert.equal(msgInfo(0x12345, 7, 2, true, true), (0x12345 << 12) | (2 << 7) | (1 << 9) | (1 << 10) | 7);
  assert.deepEqual(decodeMsgInfo(msgInfo(5, 64, 3, true, false)), { label: 5, length: 64, caps: 3, map: true, grant: false });
  assert.equal(MSGINFO_MAP, 0x200);
  assert.equal(MSGINFO_GRANT, 0x400);
  assert.equal(MSG_MAX, 64);
  assert.equal(fpage(0x2000_3000, 2, 3) >>> 0, 0x2000_3023);
  assert.deepEqual(FaultLabel, { PageFault: 0xfffff, Exception: 0xffffe });
  assert.deepEqual(ExcReply, { Resume: 0, Kill: 1 });
});

test('UTCB layout', () => {
  assert.deepEqual(Utcb, {
    Mr: 0, XferCap0: 0x100, XferCap1: 0x104, XferCap2: 0x108, MapFpage: 0x10c, MapSendBase: 0x110,
    RecvSlot: 0x120, RecvWindow: 0x124, RecvCapCount: 0x128, RecvMapBase: 0x12c, User: 0x200,
  });
  assert.equal(UTCB_SIZE, 4096);
  assert.ok(Utcb.Mr + 4 * MSG_MAX <= Utcb.XferCap0);
});

test('capabilities, rights, object types, boot slots and BootInfo', () => {
  assert.deepEqual(Rights, { Read: 1, Write: 2, Exec: 4, Grant: 8 });
  assert.deepEqual(ObjType, { Untyped: 1, Task: 2, Thread: 3, Endpoint: 4, Notification: 5, Frame: 6, IoMem: 7, IrqHandler: 8, DmaWindow: 9, SchedContext: 10, Reply: 11 });
  assert.deepEqual(BootSlot, { Null: 0, Task: 1, Thread: 2, SchedContext: 3, FirstFree: 16 });
  assert.equal(BootInfo.FirstFreeSlot, 12);
  assert.equal(BootInfo.Tables, 16);
  assert.equal(BOOTINFO_MAGIC, 0x4c345453);
  assert.equal(ROOT_CSPACE_SLOTS, 4096);
  assert.equal(CSPACE_SLOTS, 256);
  assert.equal(PRIO_MAX, 255);
});

test('user layout addresses', () => {
  assert.equal(UTCB_BASE, 0xf000_0000);
  assert.equal(BOOTINFO_BASE, 0xef00_0000);
  assert.equal(MODULES_BASE, 0xe100_0000);
  assert.ok(MODULES_BASE > STACK_TOP && BOOTINFO_BASE < UTCB_BASE && CODE_BASE < STACK_TOP);
});

test('MTIME_HZ is the board default mtime frequency', () => {
  assert.equal(MTIME_HZ, DEFAULT_TIMER_HZ);
});
