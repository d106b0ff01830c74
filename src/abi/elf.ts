// ELF32 little-endian RISC-V executables: a writer for the assembler's output and a strict
// reader for anything the board loads (our own images and GNU ld output such as riscv-tests).
//
// Layout and field meanings follow the System V ABI gABI "ELF-64 Object File Format" /
// "Executable and Linking Format (ELF) 1.2": chapter 1 (header, sections, symbol table) and
// chapter 2 (program headers), and the RISC-V ELF psABI (EM_RISCV = 243, e_flags).

export const EM_RISCV = 243;
const ET_EXEC = 2;
const PT_LOAD = 1;
const SHT_PROGBITS = 1;
const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;
const SHF_EXECINSTR = 4;
const SHN_ABS = 0xfff1;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const EHDR_SIZE = 52;
const PHDR_SIZE = 32;
const SHDR_SIZE = 40;
const SYM_SIZE = 16;
const PAGE = 0x1000;

/** Malformed ELF input (reader) or an impossible image description (writer). */
export class ElfError extends Error {
  constructor(message: string) {
    super(`elf: ${message}`);
    this.name = 'ElfError';
  }
}

export type SymbolKind = 'func' | 'object' | 'notype';

export interface ElfSymbol {
  readonly name: string;
  readonly value: number;
  readonly size?: number;
  readonly kind?: SymbolKind;
  /** STB_GLOBAL when true, STB_LOCAL otherwise. */
  readonly global?: boolean;
}

export interface ElfSegmentInput {
  readonly vaddr: number;
  /** Physical (load) address; defaults to vaddr. */
  readonly paddr?: number;
  /** File contents; bytes from data.length to memsz are zero-filled at load. */
  readonly data: Uint8Array;
  readonly memsz?: number;
  readonly flags: 'rx' | 'r' | 'rw' | 'rwx';
  /** Section name for tools (default from flags: .text, .rodata, .data, .bss). */
  readonly name?: string;
}

export interface ElfInput {
  readonly entry: number;
  readonly segments: readonly ElfSegmentInput[];
  readonly symbols: readonly ElfSymbol[];
  /** e_flags (psABI: bit 0 RVC, bits 1-2 float ABI); default 0 (soft-float, no RVC). */
  readonly flags?: number;
}

const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

class StrTab {
  readonly bytes: number[] = [0];
  private readonly seen = new Map<string, number>();
  add(s: string): number {
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    const off = this.bytes.length;
    this.bytes.push(...new TextEncoder().encode(s), 0);
    this.seen.set(s, off);
    return off;
  }
}

interface ShdrOut {
  name: number; type: number; flags: number; addr: number; offset: number; size: number;
  link: number; info: number; align: number; entsize: number;
}

/**
 * Build an ET_EXEC image: one PT_LOAD per segment (p_align 4 KiB, file offset congruent to
 * vaddr), a section header per segment (plus a NOBITS part when memsz > filesz), and
 * .symtab/.strtab/.shstrtab so that readelf and objdump accept it. Throws ElfError for
 * out-of-range values, memsz < data.length or overlapping segments.
 */
export function writeElf32(input: ElfInput): Uint8Array {
  if (!u32(input.entry)) throw new ElfError(`entry ${input.entry} is not a 32-bit address`);
  const segs = input.segments.map((s, i) => {
    const memsz = s.memsz ?? s.data.length;
    if (!u32(s.vaddr) || !u32(s.paddr ?? s.vaddr)) throw new ElfError(`segment ${i}: address is not 32-bit`);
    if (!u32(memsz) || memsz < s.data.length) throw new ElfError(`segment ${i}: memsz ${memsz} < filesz ${s.data.length}`);
    if (s.vaddr + memsz > 0x100000000) throw new ElfError(`segment ${i}: wraps the 32-bit address space`);
    return { ...s, memsz };
  });
  checkOverlap(segs.map((s) => ({ vaddr: s.vaddr, memsz: s.memsz })));

  // File layout: Ehdr, Phdrs, segment data (each congruent to its vaddr mod 4 KiB),
  // .symtab, .strtab, .shstrtab, Shdrs.
  let off = EHDR_SIZE + PHDR_SIZE * segs.length;
  const segOff = segs.map((s) => {
    if (s.data.length === 0) return off;
    off += (s.vaddr - off) & (PAGE - 1);
    const o = off;
    off += s.data.length;
    return o;
  });

  const shstr = new StrTab();
  const shdrs: ShdrOut[] = [{ name: 0, type: 0, flags: 0, addr: 0, offset: 0, size: 0, link: 0, info: 0, align: 0, entsize: 0 }];
  const secRanges: { addr: number; size: number; index: number }[] = [];
  segs.forEach((s, i) => {
    const flags = SHF_ALLOC | (s.flags.includes('w') ? SHF_WRITE : 0) | (s.flags.includes('x') ? SHF_EXECINSTR : 0);
    const dflt = s.flags.includes('x') ? '.text' : s.flags.includes('w') ? (s.data.length === 0 ? '.bss' : '.data') : '.rodata';
    const name = s.name ?? dflt;
    if (s.data.length > 0) {
      secRanges.push({ addr: s.vaddr, size: s.data.length, index: shdrs.length });
      shdrs.push({ name: shstr.add(name), type: SHT_PROGBITS, flags, addr: s.vaddr, offset: segOff[i]!, size: s.data.length, link: 0, info: 0, align: 4, entsize: 0 });
    }
    if (s.memsz > s.data.length) {
      const addr = s.vaddr + s.data.length;
      secRanges.push({ addr, size: s.memsz - s.data.length, index: shdrs.length });
      shdrs.push({ name: shstr.add(s.data.length === 0 ? name : '.bss'), type: SHT_NOBITS, flags, addr, offset: segOff[i]! + s.data.length, size: s.memsz - s.data.length, link: 0, info: 0, align: 4, entsize: 0 });
    }
  });

  // Symbol table: null symbol, then locals, then globals (gABI: sh_info = first non-local).
  const str = new StrTab();
  const ordered = [...input.symbols.filter((s) => !s.global), ...input.symbols.filter((s) => s.global)];
  const symtab = new Uint8Array(SYM_SIZE * (ordered.length + 1));
  const sv = new DataView(symtab.buffer);
  ordered.forEach((s, i) => {
    if (!u32(s.value)) throw new ElfError(`symbol '${s.name}': value ${s.value} is not 32-bit`);
    const at = SYM_SIZE * (i + 1);
    const type = s.kind === 'func' ? 2 : s.kind === 'object' ? 1 : 0;
    const sec = secRanges.find((r) => s.value >= r.addr && s.value < r.addr + r.size)
      ?? secRanges.find((r) => s.value === r.addr + r.size);
    sv.setUint32(at, str.add(s.name), true);
    sv.setUint32(at + 4, s.value, true);
    sv.setUint32(at + 8, s.size ?? 0, true);
    sv.setUint8(at + 12, ((s.global ? 1 : 0) << 4) | type);
    sv.setUint16(at + 14, sec?.index ?? SHN_ABS, true);
  });
  const firstGlobal = 1 + input.symbols.filter((s) => !s.global).length;
  const symIdx = shdrs.length;
  off = (off + 3) & ~3;
  shdrs.push({ name: shstr.add('.symtab'), type: SHT_SYMTAB, flags: 0, addr: 0, offset: off, size: symtab.length, link: symIdx + 1, info: firstGlobal, align: 4, entsize: SYM_SIZE });
  const symOff = off;
  off += symtab.length;
  shdrs.push({ name: shstr.add('.strtab'), type: SHT_STRTAB, flags: 0, addr: 0, offset: off, size: str.bytes.length, link: 0, info: 0, align: 1, entsize: 0 });
  const strOff = off;
  off += str.bytes.length;
  const shstrIdx = shdrs.length;
  const shstrName = shstr.add('.shstrtab');
  shdrs.push({ name: shstrName, type: SHT_STRTAB, flags: 0, addr: 0, offset: off, size: shstr.bytes.length, link: 0, info: 0, align: 1, entsize: 0 });
  const shstrOff = off;
  off += shstr.bytes.length;
  off = (off + 3) & ~3;
  const shoff = off;
  off += SHDR_SIZE * shdrs.length;

  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  // e_ident: magic, ELFCLASS32, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE.
  out.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
  dv.setUint16(16, ET_EXEC, true);
  dv.setUint16(18, EM_RISCV, true);
  dv.setUint32(20, 1, true);
  dv.setUint32(24, input.entry, true);
  dv.setUint32(28, EHDR_SIZE, true);
  dv.setUint32(32, shoff, true);
  dv.setUint32(36, input.flags ?? 0, true);
  dv.setUint16(40, EHDR_SIZE, true);
  dv.setUint16(42, PHDR_SIZE, true);
  dv.setUint16(44, segs.length, true);
  dv.setUint16(46, SHDR_SIZE, true);
  dv.setUint16(48, shdrs.length, true);
  dv.setUint16(50, shstrIdx, true);
  segs.forEach((s, i) => {
    const at = EHDR_SIZE + PHDR_SIZE * i;
    const f = (s.flags.includes('r') ? PF_R : 0) | (s.flags.includes('w') ? PF_W : 0) | (s.flags.includes('x') ? PF_X : 0);
    [PT_LOAD, segOff[i]!, s.vaddr, s.paddr ?? s.vaddr, s.data.length, s.memsz, f, PAGE]
      .forEach((v, k) => dv.setUint32(at + 4 * k, v, true));
    out.set(s.data, segOff[i]!);
  });
  out.set(symtab, symOff);
  out.set(str.bytes, strOff);
  out.set(shstr.bytes, shstrOff);
  shdrs.forEach((h, i) => {
    [h.name, h.type, h.flags, h.addr, h.offset, h.size, h.link, h.info, h.align, h.entsize]
      .forEach((v, k) => dv.setUint32(shoff + SHDR_SIZE * i + 4 * k, v, true));
  });
  return out;
}

function checkOverlap(segs: readonly { vaddr: number; memsz: number }[]): void {
  for (let i = 0; i < segs.length; i++) {
    for (let j = i + 1; j < segs.length; j++) {
      const a = segs[i]!;
      const b = segs[j]!;
      if (a.memsz > 0 && b.memsz > 0 && a.vaddr < b.vaddr + b.memsz && b.vaddr < a.vaddr + a.memsz) {
        throw new ElfError(`segments ${i} and ${j} overlap (0x${a.vaddr.toString(16)}+0x${a.memsz.toString(16)}, 0x${b.vaddr.toString(16)}+0x${b.memsz.toString(16)})`);
      }
    }
  }
}

// ---- Reader ----

export interface ElfSegment {
  readonly vaddr: number;
  readonly paddr: number;
  /** The filesz bytes from the file (a copy). */
  readonly data: Uint8Array;
  readonly memsz: number;
  readonly flags: { readonly r: boolean; readonly w: boolean; readonly x: boolean };
}

export interface ElfSymbolInfo {
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly kind: SymbolKind;
  readonly global: boolean;
}

export interface ElfImage {
  readonly entry: number;
  /** e_flags (psABI). */
  readonly flags: number;
  /** The PT_LOAD segments, in program header order. */
  readonly segments: readonly ElfSegment[];
  /** Name -> value; a global definition wins over local ones of the same name. */
  readonly symbols: Map<string, number>;
  /** Every defined, named function, object or untyped symbol from .symtab. */
  readonly symbolList: readonly ElfSymbolInfo[];
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * Parse and validate an ELF32 little-endian RISC-V ET_EXEC image. Throws ElfError naming the
 * first problem: truncated header, bad magic, wrong class/byte order/version/machine/type,
 * header tables or segments outside the file, filesz > memsz, address wrap, overlapping
 * PT_LOAD segments, a malformed symbol table.
 */
export function parseElf32(bytes: Uint8Array): ElfImage {
  const len = bytes.length;
  if (len < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('bad magic: not an ELF file');
  }
  if (len < EHDR_SIZE) throw new ElfError(`truncated file: ${len} bytes, the ELF32 header needs ${EHDR_SIZE}`);
  if (bytes[4] !== 1) throw new ElfError(`not ELF32 (EI_CLASS ${bytes[4]}${bytes[4] === 2 ? ', ELF64' : ''})`);
  if (bytes[5] !== 1) throw new ElfError(`not little-endian (EI_DATA ${bytes[5]})`);
  if (bytes[6] !== 1) throw new ElfError(`unsupported ELF version (EI_VERSION ${bytes[6]})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h16 = (o: number): number => dv.getUint16(o, true);
  const h32 = (o: number): number => dv.getUint32(o, true);
  const machine = h16(18);
  if (machine !== EM_RISCV) throw new ElfError(`not RISC-V (e_machine ${machine}, want ${EM_RISCV})`);
  const type = h16(16);
  if (type !== ET_EXEC) throw new ElfError(`not an executable (e_type ${type}${type === 1 ? ', ET_REL' : type === 3 ? ', ET_DYN' : ''}; want ET_EXEC)`);
  const entry = h32(24);
  const phoff = h32(28);
  const shoff = h32(32);
  const phentsize = h16(42);
  const phnum = h16(44);
  const shentsize = h16(46);
  const shnum = h16(48);
  const shstrndx = h16(50);
  if (phnum === 0) throw new ElfError('no program headers (nothing to load)');
  if (phentsize !== PHDR_SIZE) throw new ElfError(`bad e_phentsize ${phentsize} (want ${PHDR_SIZE})`);
  if (phoff + phnum * PHDR_SIZE > len) {
    throw new ElfError(`program header table (${hex(phoff)}, ${phnum} entries) is outside the file (${hex(len)} bytes)`);
  }

  const segments: ElfSegment[] = [];
  const loadIndex: number[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * PHDR_SIZE;
    if (h32(at) !== PT_LOAD) continue;
    const [offset, vaddr, paddr, filesz, memsz, flags] = [4, 8, 12, 16, 20, 24].map((k) => h32(at + k)) as
      [number, number, number, number, number, number];
    if (filesz > memsz) throw new ElfError(`segment ${i}: filesz ${hex(filesz)} > memsz ${hex(memsz)}`);
    if (offset + filesz > len) {
      throw new ElfError(`segment ${i}: file bytes ${hex(offset)}..${hex(offset + filesz)} are outside the file (${hex(len)} bytes; truncated?)`);
    }
    if (vaddr + memsz > 0x100000000) throw new ElfError(`segment ${i}: ${hex(vaddr)}+${hex(memsz)} wraps the 32-bit address space`);
    segments.push({
      vaddr, paddr, memsz, data: bytes.slice(offset, offset + filesz),
      flags: { r: (flags & PF_R) !== 0, w: (flags & PF_W) !== 0, x: (flags & PF_X) !== 0 },
    });
    loadIndex.push(i);
  }
  if (segments.length === 0) throw new ElfError('no PT_LOAD segment');
  try {
    checkOverlap(segments);
  } catch (e) {
    // Report program-header indices, not PT_LOAD ordinals.
    const m = e instanceof ElfError ? /segments (\d+) and (\d+)/.exec(e.message) : null;
    if (m) throw new ElfError(`segments ${loadIndex[Number(m[1])]} and ${loadIndex[Number(m[2])]} overlap`);
    throw e;
  }

  const { symbols, symbolList } = readSymbols(bytes, dv, shoff, shnum, shentsize, shstrndx);
  return { entry, flags: h32(36), segments, symbols, symbolList };
}

/** Read .symtab (found through the section headers; absent section headers = no symbols). */
function readSymbols(bytes: Uint8Array, dv: DataView, shoff: number, shnum: number,
  shentsize: number, shstrndx: number): { symbols: Map<string, number>; symbolList: ElfSymbolInfo[] } {
  const symbols = new Map<string, number>();
  const symbolList: ElfSymbolInfo[] = [];
  if (shoff === 0 || shnum === 0) return { symbols, symbolList };
  const len = bytes.length;
  if (shentsize !== SHDR_SIZE) throw new ElfError(`bad e_shentsize ${shentsize} (want ${SHDR_SIZE})`);
  if (shoff + shnum * SHDR_SIZE > len) {
    throw new ElfError(`section header table (${hex(shoff)}, ${shnum} entries) is outside the file (${hex(len)} bytes)`);
  }
  if (shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} >= e_shnum ${shnum}`);
  const sh = (i: number, field: number): number => dv.getUint32(shoff + i * SHDR_SIZE + field * 4, true);
  const inFile = (i: number, what: string): void => {
    if (sh(i, 1) !== SHT_NOBITS && sh(i, 4) + sh(i, 5) > len) {
      throw new ElfError(`${what} (section ${i}) at ${hex(sh(i, 4))}+${hex(sh(i, 5))} is outside the file`);
    }
  };
  const cstr = (tab: number, off: number, what: string): string => {
    const start = sh(tab, 4);
    const end = start + sh(tab, 5);
    const s = start + off;
    if (off >= sh(tab, 5)) throw new ElfError(`${what}: name offset ${hex(off)} is outside its string table`);
    let e = s;
    while (e < end && bytes[e] !== 0) e++;
    if (e === end) throw new ElfError(`${what}: name is not NUL-terminated inside its string table`);
    return new TextDecoder().decode(bytes.subarray(s, e));
  };
  for (let i = 0; i < shnum; i++) {
    if (sh(i, 1) !== SHT_SYMTAB) continue;
    inFile(i, '.symtab');
    const strIdx = sh(i, 6);
    if (strIdx >= shnum || sh(strIdx, 1) !== SHT_STRTAB) throw new ElfError(`.symtab (section ${i}): sh_link ${strIdx} is not a string table`);
    inFile(strIdx, 'symbol string table');
    const entsize = sh(i, 9);
    if (entsize !== SYM_SIZE) throw new ElfError(`.symtab (section ${i}): bad sh_entsize ${entsize} (want ${SYM_SIZE})`);
    const base = sh(i, 4);
    const n = Math.floor(sh(i, 5) / SYM_SIZE);
    for (let k = 1; k < n; k++) {
      const at = base + k * SYM_SIZE;
      const info = bytes[at + 12]!;
      const stType = info & 0xf;
      if (stType > 2) continue; // STT_SECTION, STT_FILE, TLS...: not code or data names
      if (dv.getUint16(at + 14, true) === 0) continue; // SHN_UNDEF: e.g. an unresolved weak symbol
      const nameOff = dv.getUint32(at, true);
      if (nameOff === 0) continue;
      const name = cstr(strIdx, nameOff, `symbol ${k}`);
      const value = dv.getUint32(at + 4, true);
      const global = info >> 4 !== 0;
      symbolList.push({ name, value, size: dv.getUint32(at + 8, true), kind: stType === 2 ? 'func' : stType === 1 ? 'object' : 'notype', global });
      if (!symbols.has(name) || global) symbols.set(name, value);
    }
  }
  return { symbols, symbolList };
}
