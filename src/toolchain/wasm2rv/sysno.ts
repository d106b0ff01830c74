// Call numbers of the `ecall`s that compiled programs issue for their runtime (a7 = number,
// arguments in a0..a6 / fa0..fa7 by the wasm2rv convention, results in a0, a0:a1 or fa0).
// The numbers are ABI (src/abi/runtime.ts RtCall, ENV_IMPORTS); the `l4` imports are the
// kernel's system calls (src/abi/sys.ts Sys). Only the fuzzer's test-harness imports are
// defined here. They are listed in docs/WASM2RV.md.

import { ENV_IMPORTS, RtCall } from '../../abi/runtime.ts';

/** exit(a0 = status): the program's `main` returned (or the start function, without main). */
export const SYS_EXIT = RtCall.Exit;
/** Return from a host-initiated call (host-env `invoke`): the result is in a0/a1/fa0. */
export const SYS_RETURN = RtCall.Return;

/** AssemblyScript's imports (module `env`), provided by the user runtime as ecalls. */
export const ENV_CALLS: Readonly<Record<string, number>> = ENV_IMPORTS;

/** binaryen's translate-to-fuzz logging imports (module `fuzzing-support`), for the fuzzer.
 *  Not ABI: only the test harnesses (host-env, diff-harness) implement them. */
export const FUZZ_CALLS: Readonly<Record<string, number>> = {
  'fuzzing-support.log-i32': 0x5720,
  'fuzzing-support.log-i64': 0x5721,
  'fuzzing-support.log-f32': 0x5722,
  'fuzzing-support.log-f64': 0x5723,
  // Both harnesses implement these trivially (no callback into the module): call-export does
  // nothing, call-export-catch returns 0, sleep(ms, id) returns id.
  'fuzzing-support.call-export': 0x5724,
  'fuzzing-support.call-export-catch': 0x5725,
  'fuzzing-support.sleep': 0x5726,
};
