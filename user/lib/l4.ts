// user/lib: everything a program needs to talk to the kernel (docs/USERLAND.md).
//   abi.ts       constants of src/abi (generated)
//   syscalls.ts  the `l4` imports: raw system calls and the res/peek/poke/time intrinsics (generated)
//   ipc.ts       message info, message registers, call/send/recv/reply..., the UTCB
//   utcb.ts      capability transfer and map items, flexpages
//   objects.ts   kernel-object methods (invoke and a typed helper per Method)
//   debug.ts     the kernel debug console
//   time.ts      now(): the virtual clock (mtime ticks, the l4.time intrinsic)
// Import this file: import { call, setMr, Err } from "../lib/l4";

export * from "./abi";
export * from "./syscalls";
export * from "./ipc";
export * from "./utcb";
export * from "./objects";
export * from "./debug";
export * from "./time";
