// Wasm traps on the machine: their kinds, and the trap-site table that maps a faulting pc back
// to the wasm function and code offset (WebAssembly 2.0, section 4.4 "Instructions" lists every
// trapping instruction; the spec does not number trap kinds, these names are wasm2rv's).
//
// A trap in compiled code is one of:
//   - an `ebreak` at a trap site (unreachable, integer divide by zero / overflow, invalid
//     conversion, call_indirect table index / signature checks, explicit bounds checks);
//   - a page fault at a linear-memory access whose static offset carried it into the unmapped
//     region after the memory (the access instruction is itself a trap site);
//   - a page fault below the native stack (call stack exhausted).
// The table lives in the ELF's read-only data (symbol `__wasm2rv_traps`, section
// `.wasm2rv.traps`): entries of 12 bytes sorted by pc: u32 pc, u32 (kind << 24 | 0), u32 wasm
// code offset; the function is found by address from the ELF symbols.

export type TrapKind =
  | 'unreachable'
  | 'int_div_zero'
  | 'int_overflow'
  | 'invalid_conversion'
  | 'oob_memory'
  | 'oob_table'
  | 'indirect_call_mismatch'
  | 'stack_overflow';

export const TRAP_KINDS: readonly TrapKind[] = [
  'unreachable', 'int_div_zero', 'int_overflow', 'invalid_conversion', 'oob_memory',
  'oob_table', 'indirect_call_mismatch', 'stack_overflow',
];

/** The message a trap of this kind is reported with (close to the spec's wording). */
export const TRAP_MESSAGES: Record<TrapKind, string> = {
  unreachable: 'unreachable executed',
  int_div_zero: 'integer divide by zero',
  int_overflow: 'integer overflow',
  invalid_conversion: 'invalid conversion to integer',
  oob_memory: 'out of bounds memory access',
  oob_table: 'undefined element: table index out of bounds',
  indirect_call_mismatch: 'indirect call: null function or signature mismatch',
  stack_overflow: 'call stack exhausted',
};

export interface TrapEntry {
  pc: number;
  kind: TrapKind;
  wasmOff: number;
}

export const TRAP_ENTRY_SIZE = 12;

/** Serialize trap sites (any order) into the table format above. */
export function encodeTrapTable(entries: TrapEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => (a.pc >>> 0) - (b.pc >>> 0));
  const out = new Uint8Array(sorted.length * TRAP_ENTRY_SIZE);
  const dv = new DataView(out.buffer);
  sorted.forEach((e, i) => {
    dv.setUint32(i * 12, e.pc >>> 0, true);
    dv.setUint32(i * 12 + 4, TRAP_KINDS.indexOf(e.kind) << 24, true);
    dv.setUint32(i * 12 + 8, e.wasmOff >>> 0, true);
  });
  return out;
}

/** Find the entry for `pc` in an encoded table (binary search), or null. */
export function lookupTrap(table: Uint8Array, pc: number): TrapEntry | null {
  const dv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let lo = 0;
  let hi = Math.floor(table.length / TRAP_ENTRY_SIZE) - 1;
  pc >>>= 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = dv.getUint32(mid * 12, true);
    if (p === pc) {
      const kind = TRAP_KINDS[dv.getUint32(mid * 12 + 4, true) >>> 24];
      return kind === undefined ? null : { pc, kind, wasmOff: dv.getUint32(mid * 12 + 8, true) };
    }
    if (p < pc) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}
