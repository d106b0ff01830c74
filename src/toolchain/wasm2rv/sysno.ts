// Call numbers of the `ecall`s that compiled programs issue for their runtime (a7 = number,
// arguments in a0..a6 / fa0..fa7 by the wasm2rv convention, results in a0, a0:a1 or fa0).
//
// PROVISIONAL: these are what the minimal host environment (host-env.ts) implements until the
// kernel's system-call ABI (src/abi) exists; the `l4` imports take their numbers from the table
// given to the compiler (CompileOptions.syscalls), so only this runtime set is fixed here.
// They are listed in docs/WASM2RV.md.

/** exit(a0 = status): the program's `main` returned (or the start function, without main). */
export const SYS_EXIT = 0x5700;
/** Return from a host-initiated call (host-env `invoke`): the result is in a0/a1/fa0. */
export const SYS_RETURN = 0x5701;
/** memory.grow(a0 = delta pages, a1 = maximum pages) -> a0 = old pages or -1, a1 = new bytes. */
export const SYS_MEMORY_GROW = 0x5702;

/** AssemblyScript's imports (module `env`), provided by the user runtime as ecalls. */
export const ENV_CALLS: Readonly<Record<string, number>> = {
  'env.abort': 0x5710, // (msg: usize, file: usize, line: u32, col: u32): never returns
  'env.trace': 0x5711, // (msg: usize, n: i32, a0..a4: f64)
  'env.seed': 0x5712, // () -> f64
  'env.console.log': 0x5713, // (str: usize)
  'env.console.error': 0x5714,
  'env.console.info': 0x5715,
  'env.console.warn': 0x5716,
  'env.console.debug': 0x5717,
};

/** binaryen's translate-to-fuzz logging imports (module `fuzzing-support`), for the fuzzer. */
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
