// Differential testing helpers: run one module in Node's own WebAssembly engine (V8) and,
// compiled by wasm2rv, on the emulated machine (host-env.ts), and compare what they did.
//
// What is compared, call by call: the outcome (returned value, trap kind, abort), the program's
// output (console.log / trace / abort text, fuzzer log lines), and at the end the whole linear
// memory. Float results are compared bit for bit, except that any NaN equals any NaN: the wasm
// spec lets arithmetic produce any canonical or arithmetic NaN (4.3.3 "nans"), and RISC-V
// returns the canonical one where x86 propagates payloads. Fuzz modules are run through
// binaryen's --denan first so that NaNs cannot reach memory, where bits are compared exactly.

import { wasm2rv, type CompileOptions } from './compile.ts';
import { HostEnv } from './host-env.ts';
import { F32, F64, I64, type ValType, type WasmModule } from './module.ts';
import { decodeModule } from './decode.ts';
import { FUZZ_CALLS } from './sysno.ts';
import type { TrapKind } from './traps.ts';

export type CallResult =
  | { kind: 'value'; value: string }
  | { kind: 'trap'; trap: TrapKind | 'fault' | 'unknown'; detail?: string }
  | { kind: 'abort' }
  | { kind: 'budget' };

export interface RunLog {
  calls: { name: string; result: CallResult }[];
  output: string;
  memory: Uint8Array | null;
  instructions?: number;
}

/** Map a V8 trap to wasm2rv's trap kinds. */
export function v8TrapKind(e: unknown): TrapKind | 'unknown' {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError && /call stack/i.test(msg)) return 'stack_overflow';
  if (/unreachable/.test(msg)) return 'unreachable';
  if (/divide by zero|remainder by zero/.test(msg)) return 'int_div_zero';
  if (/divide result unrepresentable|integer overflow/.test(msg)) return 'int_overflow';
  if (/float unrepresentable|invalid conversion/.test(msg)) return 'invalid_conversion';
  if (/memory access out of bounds|out of bounds memory|data segment/.test(msg)) return 'oob_memory';
  if (/table index is out of bounds|undefined element/.test(msg)) return 'oob_table';
  if (/signature mismatch|null function/.test(msg)) return 'indirect_call_mismatch';
  return 'unknown';
}

/** A printable, NaN-insensitive rendering of a typed value. */
export function showValue(t: ValType, v: number | bigint): string {
  if (t === I64) return BigInt.asIntN(64, BigInt(v)).toString();
  if (t === F32 || t === F64) {
    const n = Number(v);
    if (Number.isNaN(n)) return 'nan';
    if (t === F32) return `f32:${new Uint32Array(new Float32Array([n]).buffer)[0].toString(16)}`;
    const b = new Uint32Array(new Float64Array([n]).buffer);
    return `f64:${b[1].toString(16)}_${b[0].toString(16)}`;
  }
  return String(Number(v) | 0);
}

function asString(mem: Uint8Array, ptr: number): string {
  if (ptr === 0) return 'null';
  const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
  const len = dv.getUint32(ptr - 4, true);
  let s = '';
  for (let i = 0; i + 1 < len; i += 2) s += String.fromCharCode(mem[ptr + i] | (mem[ptr + i + 1] << 8));
  return s;
}

class AbortSignal_ extends Error {}

/** Node's WebAssembly API (tsconfig's lib, ES2022 without DOM, does not declare it). */
interface WasmMemory { buffer: ArrayBuffer }
interface WasmApi {
  compile(bytes: Uint8Array): Promise<unknown>;
  instantiate(module: unknown, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Memory: new (...args: never[]) => WasmMemory;
  RuntimeError: new (...args: never[]) => Error;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The plan of a run: call `calls` in order (export name, arguments), after instantiation. */
export interface RunPlan {
  calls: { name: string; args: (number | bigint)[] }[];
  seed?: number;
  maxInsns?: number;
  /** DRAM of the machine (default: host-env's). */
  dramSize?: number;
}

/** A default plan: every exported function, in export order, with zero arguments. */
export function defaultPlan(m: WasmModule): RunPlan {
  const calls = m.exports.filter((e) => e.kind === 'func').map((e) => {
    const t = m.types[m.funcTypes[e.index]];
    return { name: e.name, args: t.params.map((p) => (p === I64 ? 0n : 0)) };
  });
  return { calls };
}

/**
 * The module with its memory exported as "__memory" (added to the export section), so that
 * the V8 side can read the final memory of modules that do not export it.
 */
export function withMemoryExport(bytes: Uint8Array): Uint8Array {
  const m = decodeModule(bytes);
  if (m.memory === null || m.exports.some((e) => e.kind === 'memory')) return bytes;
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const readLeb = (p: number): [number, number] => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      r |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) === 0) return [r >>> 0, p];
    }
  };
  const entry = [...leb(8), ...new TextEncoder().encode('__memory'), 0x02, 0x00];
  const out: number[] = [...bytes.subarray(0, 8)];
  let p = 8;
  let done = false;
  const order = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 10, 11];
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, body] = readLeb(p + 1);
    const end = body + size;
    if (!done && id !== 0 && id === 7) {
      const [count, rest] = readLeb(body);
      const content = [...leb(count + 1), ...bytes.subarray(rest, end), ...entry];
      out.push(7, ...leb(content.length), ...content);
      done = true;
    } else {
      if (!done && id !== 0 && order.indexOf(id) > order.indexOf(7)) {
        const content = [1, ...entry];
        out.push(7, ...leb(content.length), ...content);
        done = true;
      }
      out.push(...bytes.subarray(p, end));
    }
    p = end;
  }
  if (!done) out.push(7, ...leb(entry.length + 1), 1, ...entry);
  return new Uint8Array(out);
}

export async function runInV8(bytes: Uint8Array, plan: RunPlan): Promise<RunLog> {
  let output = '';
  let memory: WasmMemory | null = null;
  const m = decodeModule(bytes);
  const mem = (): Uint8Array => new Uint8Array(memory!.buffer);
  const env = {
    abort: (msg: number, file: number, line: number, col: number) => {
      output += `abort: ${asString(mem(), msg)} at ${asString(mem(), file)}:${line}:${col}\n`;
      throw new AbortSignal_('abort');
    },
    trace: (msg: number, n: number, ...vals: number[]) => {
      output += `trace: ${asString(mem(), msg)}${n > 0 ? ' ' + vals.slice(0, n).map(String).join(', ') : ''}\n`;
    },
    seed: () => plan.seed ?? 42,
    'console.log': (p: number) => { output += `${asString(mem(), p)}\n`; },
  };
  const fuzz = {
    'log-i32': (v: number) => { output += `log-i32 ${v}\n`; },
    'log-i64': (v: bigint) => { output += `log-i64 ${v}\n`; },
    'log-f32': (v: number) => { output += `log-f32 ${showValue(F32, v)}\n`; },
    'log-f64': (v: number) => { output += `log-f64 ${showValue(F64, v)}\n`; },
    'call-export': () => {},
    'call-export-catch': () => 0,
    sleep: (_ms: number, id: number) => id,
  };
  const calls: RunLog['calls'] = [];
  let inst: { exports: Record<string, unknown> };
  try {
    inst = await WA.instantiate(await WA.compile(withMemoryExport(bytes)), { env, 'fuzzing-support': fuzz });
  } catch (e) {
    return { calls: [{ name: '<start>', result: resultOfError(e) }], output, memory: null };
  }
  const ex = inst.exports as Record<string, unknown>;
  memory = (Object.values(ex).find((v) => v instanceof WA.Memory) as WasmMemory | undefined) ?? null;
  for (const c of plan.calls) {
    const e = m.exports.find((x) => x.name === c.name)!;
    const t = m.types[m.funcTypes[e.index]];
    try {
      const v = (ex[c.name] as (...a: unknown[]) => unknown)(...c.args);
      calls.push({ name: c.name, result: { kind: 'value', value: t.results.length ? showValue(t.results[0], v as number) : '' } });
    } catch (err) {
      calls.push({ name: c.name, result: resultOfError(err) });
    }
  }
  return { calls, output, memory: memory ? new Uint8Array(memory.buffer).slice() : null };
}

function resultOfError(e: unknown): CallResult {
  if (e instanceof AbortSignal_) return { kind: 'abort' };
  if (e instanceof WA.RuntimeError || e instanceof RangeError) return { kind: 'trap', trap: v8TrapKind(e) };
  throw e;
}

export function runOnMachine(bytes: Uint8Array, plan: RunPlan, opts: CompileOptions = {}): RunLog {
  const compiled = wasm2rv(bytes, { ...opts, hostCalls: { ...FUZZ_CALLS, ...opts.hostCalls } });
  const m = compiled.module;
  const hostCalls = new Map<number, (env: HostEnv) => void>([
    [FUZZ_CALLS['fuzzing-support.log-i32'], (env) => env.print(`log-i32 ${env.board.hart.x[10]}\n`)],
    [FUZZ_CALLS['fuzzing-support.log-i64'], (env) => {
      const x = env.board.hart.x;
      env.print(`log-i64 ${BigInt.asIntN(64, (BigInt(x[11] >>> 0) << 32n) | BigInt(x[10] >>> 0))}\n`);
    }],
    [FUZZ_CALLS['fuzzing-support.log-f32'], (env) => env.print(`log-f32 ${showValue(F32, new Float32Array(new Int32Array([env.board.hart.fr[20]]).buffer)[0])}\n`)],
    [FUZZ_CALLS['fuzzing-support.log-f64'], (env) => env.print(`log-f64 ${showValue(F64, env.board.hart.frD[10])}\n`)],
    [FUZZ_CALLS['fuzzing-support.call-export'], () => {}],
    [FUZZ_CALLS['fuzzing-support.call-export-catch'], (env) => { env.board.hart.x[10] = 0; }],
    [FUZZ_CALLS['fuzzing-support.sleep'], (env) => { env.board.hart.x[10] = env.board.hart.x[11]; }],
  ]);
  const env = new HostEnv(compiled.elf, { seed: plan.seed, maxInsns: plan.maxInsns ?? 200_000_000, hostCalls, dramSize: plan.dramSize });
  const calls: RunLog['calls'] = [];
  const init = env.init();
  if (init.kind !== 'return') {
    return { calls: [{ name: '<start>', result: outcomeResult(init) }], output: env.output, memory: null, instructions: env.instret };
  }
  for (const c of plan.calls) {
    const e = m.exports.find((x) => x.name === c.name)!;
    const t = m.types[m.funcTypes[e.index]];
    const r = env.invoke(c.name, t.params, t.results, c.args);
    if (r.outcome.kind === 'return') calls.push({ name: c.name, result: { kind: 'value', value: t.results.length ? showValue(t.results[0], r.value!) : '' } });
    else calls.push({ name: c.name, result: outcomeResult(r.outcome) });
  }
  return { calls, output: env.output, memory: m.memory ? env.linearMemory() : null, instructions: env.instret };
}

function outcomeResult(o: ReturnType<HostEnv['start']>): CallResult {
  switch (o.kind) {
    case 'trap': return { kind: 'trap', trap: o.report.kind, detail: `${o.report.message} in ${o.report.func} @${o.report.wasmOffset.toString(16)}` };
    case 'abort': return { kind: 'abort' };
    case 'budget': return { kind: 'budget' };
    default: return { kind: 'value', value: `<${o.kind}>` };
  }
}

/** Differences between two runs, as human-readable lines (empty when they agree). */
export function compareRuns(v8: RunLog, rv: RunLog): string[] {
  const diffs: string[] = [];
  const n = Math.max(v8.calls.length, rv.calls.length);
  for (let i = 0; i < n; i++) {
    const a = v8.calls[i];
    const b = rv.calls[i];
    const sa = a ? JSON.stringify({ ...a.result, detail: undefined }) : 'missing';
    const sb = b ? JSON.stringify({ ...b.result, detail: undefined }) : 'missing';
    if (sa !== sb) diffs.push(`call ${i} ${a?.name ?? b?.name}: v8 ${sa} vs machine ${sb}${b?.result.kind === 'trap' ? ` (${b.result.detail})` : ''}`);
  }
  if (v8.output !== rv.output) diffs.push(`output differs:\n--- v8\n${v8.output.slice(0, 2000)}\n--- machine\n${rv.output.slice(0, 2000)}`);
  if ((v8.memory === null) !== (rv.memory === null)) diffs.push('memory presence differs');
  else if (v8.memory && rv.memory) {
    if (v8.memory.length !== rv.memory.length) diffs.push(`memory size differs: ${v8.memory.length} vs ${rv.memory.length}`);
    else {
      for (let i = 0; i < v8.memory.length; i++) {
        if (v8.memory[i] !== rv.memory[i]) { diffs.push(`memory differs first at 0x${i.toString(16)}: ${v8.memory[i]} vs ${rv.memory[i]}`); break; }
      }
    }
  }
  return diffs;
}
