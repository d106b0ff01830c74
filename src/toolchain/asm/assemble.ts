// The two-pass RV32 assembler: GNU as syntax in, a linked ELF32 executable out.
//
// Pass 1 reads every statement, defines labels as (input section, offset), and fixes the size
// of every instruction and datum. Layout then places the output sections .text, .rodata,
// .data and .bss from `base`, each on its own 4 KiB page so a kernel can map them with
// different permissions. Pass 2 evaluates every expression with final addresses and writes
// the bytes. There are no relocations: the result is already linked.
// Syntax and limits: docs/TOOLCHAIN-ASM.md.

import { lookupInsn } from '../rv32/opcodes.ts';
import { writeElf32, type ElfSymbol } from '../../abi/elf.ts';
import { alignDirective, alignPadding, dataDirective } from './directives.ts';
import { evalExpr, findPcrelHi, Unresolved, type Expr, type ExprEnv } from './expr.ts';
import { expr, realInsn, tryConst, type Pass1 } from './operands.ts';
import { PSEUDOS, type CodeStmt } from './pseudo.ts';
import {
  AsmError, StatementError, UndefinedSymbol, splitOperands, splitStatements, stripComments,
  type SourceLine,
} from './source.ts';

export { AsmError };

export interface AsmOptions {
  /** Address of .text (default 0x80000000, the start of DRAM on the board). */
  base?: number;
  /** Entry symbol (default `_start`; if that is absent the entry is the start of .text). */
  entry?: string;
}

export type OutputName = '.text' | '.rodata' | '.data' | '.bss';

export interface AsmSection {
  readonly name: OutputName;
  readonly vaddr: number;
  /** File contents (empty for .bss). */
  readonly data: Uint8Array;
  readonly memsz: number;
}

export interface AsmResult {
  readonly elf: Uint8Array;
  readonly entry: number;
  /** Every named symbol (labels and .equ/.set), numeric local labels excluded. */
  readonly symbols: Map<string, number>;
  readonly text: Uint8Array;
  readonly rodata: Uint8Array;
  readonly data: Uint8Array;
  readonly bssSize: number;
  /** The non-empty output sections in address order. */
  readonly sections: readonly AsmSection[];
  /** Address of each instruction statement -> its source line (for traces and faults). */
  readonly lines: Map<number, number>;
  /** Informational notes, e.g. directives accepted but ignored. */
  readonly notes: readonly string[];
}

const OUTPUT_ORDER: readonly OutputName[] = ['.text', '.rodata', '.data', '.bss'];
const PAGE = 4096;

interface InputSection {
  readonly id: number;
  readonly name: string;
  readonly out: OutputName;
  size: number;
  align: number;
  addr: number;
}

interface Item {
  readonly sec: InputSection;
  readonly offset: number;
  readonly size: number;
  readonly line: SourceLine;
  readonly code: boolean;
  readonly bytes: (env: ExprEnv) => Uint8Array;
}

type SymDef =
  | { readonly k: 'label'; readonly sec: InputSection; readonly offset: number }
  | { readonly k: 'equ'; readonly e: Expr; readonly line: SourceLine };

/** Output section of an input section: by name (GNU's default linker script), else by flags. */
function outputOf(name: string, flags: string | undefined): OutputName {
  const is = (p: string): boolean => name === p || name.startsWith(`${p}.`);
  if (is('.text') || is('.init') || is('.fini')) return '.text';
  if (is('.rodata') || is('.srodata')) return '.rodata';
  if (is('.bss') || is('.sbss')) return '.bss';
  if (is('.data') || is('.sdata') || flags === undefined) return '.data';
  if (flags.includes('x')) return '.text';
  if (flags.includes('w')) return '.data';
  return '.rodata';
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

function substDot(e: Expr, sym: string): Expr {
  switch (e.k) {
    case 'dot': return { k: 'sym', name: sym };
    case 'un': return { ...e, e: substDot(e.e, sym) };
    case 'fn': return { ...e, e: substDot(e.e, sym) };
    case 'bin': return { ...e, a: substDot(e.a, sym), b: substDot(e.b, sym) };
    default: return e;
  }
}

const LABEL = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*|[0-9]+)\s*:/;
const ASSIGN = /^\s*([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)(.*)$/;
const SYMBOL_NAME = /^[A-Za-z_.$][A-Za-z0-9_.$]*$/;
/** Internal names of numeric local labels: "1:" defined for the k-th time is `.L1\u00020k`. */
const localName = (n: string, k: number): string => `.L${n}\u0002${k}`;

/** Assemble `source` (GNU as syntax, RV32IMAFD) into a linked ELF32 executable. Throws
 *  AsmError naming the line for any error. */
export function assemble(source: string, opts: AsmOptions = {}): AsmResult {
  const base = opts.base ?? 0x80000000;
  if (!Number.isInteger(base) || base < 0 || base > 0xffffffff || base % PAGE !== 0) {
    throw new AsmError(0, '', `base 0x${base.toString(16)} must be a page-aligned 32-bit address`);
  }
  const sections = new Map<string, InputSection>();
  // Pass 1 evaluates a label as (offset + a per-section bias), under two different bias sets.
  // A result that does not depend on the bias (a difference of labels in one section, or
  // `. - label`) is already a constant; anything else waits for pass 2.
  let biasSet = 1;
  const bias = (s: InputSection): bigint =>
    biasSet === 1 ? BigInt(s.id + 1) << 40n : (BigInt(s.id + 1) << 44n) + 0x3fd7b9n;
  const symbols = new Map<string, SymDef>();
  const globals = new Set<string>();
  const kinds = new Map<string, ElfSymbol['kind']>();
  const sizes = new Map<string, { e: Expr; line: SourceLine }>();
  const localCount = new Map<string, number>();
  const items: Item[] = [];
  const pcrelHis: { sec: InputSection; offset: number; target: Expr }[] = [];
  const notes: string[] = [];
  let line: SourceLine = { no: 0, text: '', original: '' };
  let dotCounter = 0;

  const section = (name: string, flags?: string): InputSection => {
    let s = sections.get(name);
    if (s === undefined) {
      s = { id: sections.size, name, out: outputOf(name, flags), size: 0, align: 1, addr: 0 };
      sections.set(name, s);
    }
    return s;
  };
  // As in GNU as, .text, .data and .bss exist from the start; input sections are laid out in
  // creation order within their output section.
  let cur = section('.text');
  section('.data');
  section('.bss');
  let prev = cur; // for .previous
  const sectionStack: InputSection[] = []; // for .pushsection / .popsection

  // ---- symbol evaluation: pass 1 knows constants and same-section differences ----
  const evaluating = new Set<string>();
  const symbolValue = (name: string, final: boolean): bigint => {
    const d = symbols.get(name);
    if (d === undefined) {
      if (final) throw new UndefinedSymbol(name.includes('\u0002') ? `${name.slice(2, name.indexOf('\u0002'))}f` : name);
      throw new Unresolved(name);
    }
    if (d.k === 'label') {
      return final ? BigInt(d.sec.addr + d.offset) : BigInt(d.offset) + bias(d.sec);
    }
    if (evaluating.has(name)) throw new StatementError(`symbol '${name}' is defined in terms of itself`);
    evaluating.add(name);
    try {
      return evalExpr(d.e, final ? envAt(0) : pass1Env);
    } finally {
      evaluating.delete(name);
    }
  };
  const pass1Env: ExprEnv = {
    symbol: (n) => symbolValue(n, false),
    dot: () => cur.size + Number(bias(cur)),
    pcrelHi: () => { throw new Unresolved('%pcrel_lo'); },
  };
  let hiByAddr = new Map<number, { target: Expr; addr: number }>();
  const envAt = (dot: number): ExprEnv => ({
    symbol: (n) => symbolValue(n, true),
    dot: () => dot,
    pcrelHi: (addr) => {
      const h = hiByAddr.get(addr >>> 0);
      if (h === undefined) throw new StatementError(`%pcrel_lo: no %pcrel_hi instruction at 0x${(addr >>> 0).toString(16)}`);
      return evalExpr(h.target, envAt(h.addr)) - BigInt(h.addr);
    },
  });
  const p1: Pass1 = {
    localRef: (n, dir) => {
      const k = localCount.get(n) ?? 0;
      if (dir === 'b') {
        if (k === 0) throw new StatementError(`local label '${n}b' has no earlier definition`);
        return localName(n, k - 1);
      }
      return localName(n, k);
    },
    tryConst: (e) => {
      biasSet = 1;
      const a = tryConst(e, pass1Env);
      biasSet = 2;
      const b = tryConst(e, pass1Env);
      return a !== undefined && a === b ? a : undefined;
    },
  };

  const define = (name: string, d: SymDef): void => {
    if (symbols.has(name)) throw new StatementError(`symbol '${name}' is already defined`);
    symbols.set(name, d);
  };
  /** A hidden label at the current position (stands for `.` in .equ and .size). */
  const defineHere = (): string => {
    const here = `.L.dot\u0002${dotCounter++}`;
    symbols.set(here, { k: 'label', sec: cur, offset: cur.size });
    return here;
  };
  const defineEqu = (name: string, text: string): void => {
    if (!SYMBOL_NAME.test(name)) throw new StatementError(`bad symbol name '${name}'`);
    // `.` in an .equ means "here", not "where the symbol is used".
    define(name, { k: 'equ', e: substDot(expr(p1, text), defineHere()), line });
  };
  const addItem = (size: number, code: boolean, bytes: (env: ExprEnv) => Uint8Array): void => {
    items.push({ sec: cur, offset: cur.size, size, line, code, bytes });
    cur.size += size;
  };

  const directive = (name: string, args: string): void => {
    switch (name) {
      case '.text': case '.data': case '.rodata': case '.bss':
        if (args.trim() !== '') throw new StatementError(`'${name}' takes no operands`);
        prev = cur;
        cur = section(name);
        return;
      case '.section': case '.pushsection': {
        const [sname, flags] = splitOperands(args);
        if (sname === undefined || !SYMBOL_NAME.test(sname)) throw new StatementError(`${name}: bad section name '${sname ?? ''}'`);
        if (name === '.pushsection') sectionStack.push(cur);
        prev = cur;
        cur = section(sname, flags?.replace(/"/g, ''));
        return;
      }
      case '.popsection': {
        const top = sectionStack.pop();
        if (top === undefined) throw new StatementError('.popsection without .pushsection');
        prev = cur;
        cur = top;
        return;
      }
      case '.previous':
        [cur, prev] = [prev, cur];
        return;
      case '.globl': case '.global': case '.weak':
        for (const s of splitOperands(args)) globals.add(s);
        return;
      case '.local': case '.file': case '.ident': case '.attribute':
        return;
      case '.equ': case '.set': {
        const [n, ...rest] = splitOperands(args);
        if (n === undefined || rest.length !== 1) throw new StatementError(`'${name}' takes NAME, expression`);
        defineEqu(n, rest[0]!);
        return;
      }
      case '.type': {
        const [n, t] = splitOperands(args);
        if (n === undefined || t === undefined) throw new StatementError(`'.type' takes NAME, @function|@object`);
        const ty = t.replace(/^[@%]/, '');
        kinds.set(n, ty === 'function' || ty === 'STT_FUNC' ? 'func' : ty === 'object' || ty === 'STT_OBJECT' ? 'object' : 'notype');
        return;
      }
      case '.size': {
        const [n, e] = splitOperands(args);
        if (n === undefined || e === undefined) throw new StatementError(`'.size' takes NAME, expression`);
        sizes.set(n, { e: substDot(expr(p1, e), defineHere()), line });
        return;
      }
      case '.option':
        notes.push(`line ${line.no}: '.option ${args.trim()}' ignored (no compressed instructions, no relaxation)`);
        return;
      case '.align': case '.p2align': case '.balign': {
        const req = alignDirective(p1, name, args);
        cur.align = Math.max(cur.align, req.align);
        const pad = alignPadding(req, cur.size, cur.out === '.text');
        if (pad.length > 0) addItem(pad.length, false, () => pad);
        return;
      }
    }
    const d = dataDirective(p1, name, args);
    if (d === undefined) throw new StatementError(`unknown directive '${name}'`);
    if (cur.out === '.bss' && !['.space', '.zero', '.skip'].includes(name)) {
      throw new StatementError(`'${name}' in ${cur.name}: only .space/.zero and alignment are allowed in .bss`);
    }
    addItem(d.size, false, d.emit);
  };

  const instruction = (mnemonic: string, args: string): void => {
    const mn = mnemonic.toLowerCase();
    const ops = splitOperands(args);
    let stmt: CodeStmt | undefined = PSEUDOS.get(mn)?.(p1, ops);
    if (stmt === undefined) {
      const m = /^(.*?)(\.aqrl|\.aq|\.rl)$/.exec(mn);
      const amo = m ? lookupInsn(m[1]!) : undefined;
      const spec = amo?.aqrl ? amo : lookupInsn(mn);
      if (spec === undefined) throw new StatementError(`unknown instruction '${mnemonic}'`);
      const suffix = spec === amo ? m![2]! : '';
      stmt = { size: 4, emit: realInsn(p1, spec, ops, suffix.includes('aq'), suffix.includes('rl')) };
      if (mn === 'auipc' && ops.length === 2) {
        const target = findPcrelHi(expr(p1, ops[1]!));
        if (target !== undefined) stmt = { ...stmt, pcrelHi: target };
      }
    }
    if (cur.out === '.bss') throw new StatementError(`instruction in ${cur.name}`);
    if (cur.size % 4 !== 0) throw new StatementError(`instruction at offset ${cur.size} of ${cur.name} is not 4-byte aligned (add .align 2)`);
    cur.align = Math.max(cur.align, 4);
    if (stmt.pcrelHi !== undefined) pcrelHis.push({ sec: cur, offset: cur.size, target: stmt.pcrelHi });
    const { emit, size } = stmt;
    addItem(size, true, (env) => {
      const words = emit(env);
      const out = new Uint8Array(words.length * 4);
      const dv = new DataView(out.buffer);
      words.forEach((w, i) => dv.setUint32(i * 4, w, true));
      return out;
    });
  };

  const statement = (text: string): void => {
    let rest = text;
    for (let m = LABEL.exec(rest); m !== null; m = LABEL.exec(rest)) {
      const name = m[1]!;
      if (/^[0-9]/.test(name)) {
        const k = localCount.get(name) ?? 0;
        symbols.set(localName(name, k), { k: 'label', sec: cur, offset: cur.size });
        localCount.set(name, k + 1);
      } else {
        define(name, { k: 'label', sec: cur, offset: cur.size });
      }
      rest = rest.slice(m[0].length);
    }
    const a = ASSIGN.exec(rest);
    if (a) { defineEqu(a[1]!, a[2]!); return; }
    const m = /^\s*(\S+)\s*(.*)$/.exec(rest);
    if (m === null) return;
    if (m[1]!.startsWith('.')) directive(m[1]!, m[2]!);
    else instruction(m[1]!, m[2]!);
  };

  const wrap = <T>(l: SourceLine, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof StatementError || e instanceof RangeError) throw new AsmError(l.no, l.original, e.message);
      throw e;
    }
  };

  // ---- pass 1 ----
  for (const l of stripComments(source)) {
    line = l;
    if (/^\s*\.end\s*$/.test(l.text)) break;
    wrap(l, () => { for (const s of splitStatements(l.text)) statement(s); });
  }

  // ---- layout ----
  let cursor = base;
  const outputs: AsmSection[] = [];
  const bufs = new Map<InputSection, Uint8Array>();
  for (const out of OUTPUT_ORDER) {
    const ins = [...sections.values()].filter((s) => s.out === out && s.size > 0);
    if (ins.length === 0) continue;
    cursor = alignUp(cursor, PAGE);
    const start = cursor;
    for (const s of ins) {
      cursor = alignUp(cursor, s.align);
      s.addr = cursor;
      cursor += s.size;
      bufs.set(s, new Uint8Array(s.size));
    }
    if (cursor > 0x100000000) throw new AsmError(0, '', `${out} ends beyond the 32-bit address space`);
    outputs.push({ name: out, vaddr: start, data: new Uint8Array(0), memsz: cursor - start });
  }
  for (const s of sections.values()) if (s.size === 0) s.addr = s.out === '.text' ? base : cursor;
  hiByAddr = new Map(pcrelHis.map((h) => [h.sec.addr + h.offset, { target: h.target, addr: h.sec.addr + h.offset }]));

  // ---- pass 2 ----
  const lines = new Map<number, number>();
  for (const it of items) {
    const addr = it.sec.addr + it.offset;
    const bytes = wrap(it.line, () => it.bytes(envAt(addr)));
    if (bytes.length !== it.size) throw new Error(`asm: line ${it.line.no} emitted ${bytes.length} bytes, sized ${it.size}`);
    if (it.sec.out !== '.bss') bufs.get(it.sec)!.set(bytes, it.offset);
    if (it.code) lines.set(addr, it.line.no);
  }
  const finalOutputs = outputs.map((o): AsmSection => {
    if (o.name === '.bss') return o;
    const data = new Uint8Array(o.memsz);
    for (const [s, b] of bufs) if (s.out === o.name) data.set(b, s.addr - o.vaddr);
    return { ...o, data };
  });

  // ---- symbols, entry, ELF ----
  const symMap = new Map<string, number>();
  for (const [name, d] of symbols) {
    if (name.includes('\u0002')) continue;
    const l = d.k === 'equ' ? d.line : line;
    symMap.set(name, Number(BigInt.asUintN(32, wrap(l, () => symbolValue(name, true)))));
  }
  const entryName = opts.entry ?? '_start';
  let entry = symMap.get(entryName);
  if (entry === undefined) {
    if (opts.entry !== undefined) throw new AsmError(0, '', `entry symbol '${entryName}' is not defined`);
    entry = finalOutputs.find((o) => o.name === '.text')?.vaddr ?? base;
    notes.push(`no '_start' symbol: entry is the start of .text (0x${entry.toString(16)})`);
  }
  const elfSymbols: ElfSymbol[] = [];
  for (const [name, value] of symMap) {
    if (name.startsWith('.L')) continue;
    const sz = sizes.get(name);
    const size = sz === undefined ? 0 : Number(wrap(sz.line, () => evalExpr(sz.e, envAt(0))));
    elfSymbols.push({ name, value, size, kind: kinds.get(name) ?? 'notype', global: globals.has(name) });
  }
  const flags = { '.text': 'rx', '.rodata': 'r', '.data': 'rw', '.bss': 'rw' } as const;
  const elf = writeElf32({
    entry,
    segments: finalOutputs.map((o) => ({ name: o.name, vaddr: o.vaddr, data: o.data, memsz: o.memsz, flags: flags[o.name] })),
    symbols: elfSymbols,
  });
  const get = (n: OutputName): Uint8Array => finalOutputs.find((o) => o.name === n)?.data ?? new Uint8Array(0);
  return {
    elf, entry, symbols: symMap, text: get('.text'), rodata: get('.rodata'), data: get('.data'),
    bssSize: finalOutputs.find((o) => o.name === '.bss')?.memsz ?? 0,
    sections: finalOutputs, lines, notes,
  };
}
