// ELF32 writer and reader: round trip, acceptance of a GNU ld executable laid out like
// riscv-tests, and one distinct error per kind of malformed input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { ElfError, parseElf32, writeElf32, type ElfInput } from './elf.ts';

/**
 * A riscv-tests style program (env/p layout: .text.init at 0x80000000, .tohost, .text, .data,
 * .bss, .riscv.attributes), assembled by GNU as 2.40 and linked by GNU ld with a riscv-tests
 * style link.ld; gzip + base64. Two PT_LOAD segments; symbols tohost, fromhost, _end, ...
 */
const GNU_RVTEST = gunzipSync(Buffer.from(`
H4sIAAAAAAACA+2cPW/TQBjH/06cvjE0oUORGIjKi5hMmoaXsjQtbdWBAVjYMK7rNJaa2rKvoVRIRK2QGBioMiCxsPJF+ByI
b1DEhkTLne1L3aoMlRAD+v+ku3v+d889z+l8GbI8r5ceLhuGAU0BP5CpXkN27xZS0UAVRdzEGEbliNBsDrZgMRtN2YysoZzG
UK2XGaVsPlmvJnZPNVPai7INH+8jhBBCCCGEEELIXyRAz4hvVRsT44BrjmMd43IOxb78k/6hAPR3dw/j909qk7eBidKbX3vX
S7h7Z6oyMbTccD9+Qd8oY/IKcNWa+xkcfDrq71fQ/1ZBcPD1kLdLCCGEEEIIIYQQQgghhBBCCCGE/BvWe7wDQgghhBBCCCHk
f2dxZqoy/0AakR+7XRiz0ixF3Zm6Xw+n7U49rNmOslr1sG6vqW7Hd+NIze90Olsb02ENI8bYhT+E76muqCsKlLUupLqqdTHV
Na3NRJoDXToRtIghGDlt4vvRcC6fqjBwT/aXcnop8TvWj5HULRjoZ1n+tIaBCVeOj3Lrbdk3c3o4d351ok7uvKrSwVa2ruJd
lOuvcucry/17Kn9N6xLeqvjyfkYSXcDT7L60RtQVVoBr2+f8NpEXe8Lueq4IIojICbX9IvKFZ4ugHcQCa45w0HL8DYROHCN2
I0e4bbS9jdCLYMfCiQRsb3MNrSjoJFtgxS87wlmVo4jSsa0t4W0Ly9/0hTTTBMkUrCSPtSpTWMl7sxwhIn91S3jxOd7sZaQ1
JIb0nZYHHyahmY03Mr+ifntVYOUMPysfT33TGrIXqN9XSiMfT3275kk//SbvyzaS+ak3oWplNM/wm0t9wkGe5nEtjbyfGgu5
+RXp99xIc1Sy86myGaP6bBmf54H9M+JVTvnNLiD5PZz2+w2Hf17zHEQAAA==
`.replace(/\s+/g, ''), 'base64'));

const SAMPLE: ElfInput = {
  entry: 0x80000010,
  segments: [
    { vaddr: 0x80000000, data: Uint8Array.from([0x13, 0, 0, 0, 0x67, 0x80, 0, 0]), flags: 'rx' },
    { vaddr: 0x80001000, data: new TextEncoder().encode('hello'), flags: 'r' },
    { vaddr: 0x80002000, paddr: 0x90002000, data: Uint8Array.from([1, 2, 3, 4]), memsz: 0x100, flags: 'rw' },
    { vaddr: 0x80003000, data: new Uint8Array(0), memsz: 0x2000, flags: 'rw', name: '.bss' },
  ],
  symbols: [
    { name: '_start', value: 0x80000010, kind: 'func', size: 8, global: true },
    { name: 'msg', value: 0x80001000, kind: 'object', size: 5 },
    { name: 'end', value: 0x80005000 },
    { name: 'CONST', value: 42 },
  ],
};

const image = (): Uint8Array => writeElf32(SAMPLE);
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

test('write then parse gives back entry, segments and symbols', () => {
  const elf = parseElf32(image());
  assert.equal(elf.entry, 0x80000010);
  assert.deepEqual(elf.segments.map((s) => [s.vaddr, s.paddr, [...s.data], s.memsz, s.flags]), [
    [0x80000000, 0x80000000, [0x13, 0, 0, 0, 0x67, 0x80, 0, 0], 8, { r: true, w: false, x: true }],
    [0x80001000, 0x80001000, [...new TextEncoder().encode('hello')], 5, { r: true, w: false, x: false }],
    [0x80002000, 0x90002000, [1, 2, 3, 4], 0x100, { r: true, w: true, x: false }],
    [0x80003000, 0x80003000, [], 0x2000, { r: true, w: true, x: false }],
  ]);
  assert.deepEqual([...elf.symbols], [['msg', 0x80001000], ['end', 0x80005000], ['CONST', 42], ['_start', 0x80000010]]);
  assert.deepEqual(elf.symbolList.map((s) => [s.name, s.size, s.kind, s.global]), [
    ['msg', 5, 'object', false], ['end', 0, 'notype', false], ['CONST', 0, 'notype', false], ['_start', 8, 'func', true],
  ]);
});

test('the writer keeps p_offset congruent to p_vaddr modulo the 4 KiB p_align (segments with file bytes)', () => {
  const b = image();
  const v = dv(b);
  const phoff = v.getUint32(28, true);
  for (let i = 0; i < v.getUint16(44, true); i++) {
    const at = phoff + 32 * i;
    assert.equal(v.getUint32(at, true), 1); // PT_LOAD
    if (v.getUint32(at + 16, true) > 0) assert.equal(v.getUint32(at + 4, true) & 0xfff, v.getUint32(at + 8, true) & 0xfff);
    assert.equal(v.getUint32(at + 28, true), 0x1000);
  }
  assert.equal(v.getUint16(18, true), 243); // EM_RISCV
  assert.equal(v.getUint16(16, true), 2); // ET_EXEC
});

test('the writer rejects impossible images', () => {
  const seg = SAMPLE.segments[0]!;
  assert.throws(() => writeElf32({ ...SAMPLE, segments: [{ ...seg, memsz: 4 }] }), /^ElfError: elf: segment 0: memsz 4 < filesz 8$/);
  assert.throws(() => writeElf32({ ...SAMPLE, segments: [seg, { ...seg, vaddr: 0x80000004 }] }), /elf: segments 0 and 1 overlap/);
  assert.throws(() => writeElf32({ ...SAMPLE, entry: -1 }), /elf: entry -1 is not a 32-bit address/);
  assert.throws(() => writeElf32({ ...SAMPLE, segments: [{ ...seg, vaddr: 0xfffffffc }] }), /elf: segment 0: wraps the 32-bit address space/);
  assert.throws(() => writeElf32({ ...SAMPLE, symbols: [{ name: 'x', value: 2 ** 32 }] }), /elf: symbol 'x': value 4294967296 is not 32-bit/);
});

test('a GNU ld executable in riscv-tests layout parses, with its symbol table', () => {
  const elf = parseElf32(GNU_RVTEST);
  assert.equal(elf.entry, 0x80000000);
  assert.deepEqual(elf.segments.map((s) => [s.vaddr, s.data.length, s.memsz, s.flags.w, s.flags.x]), [
    [0x80000000, 0x80, 0x80, false, true], [0x80001000, 0x2004, 0x2044, true, true],
  ]); // program header 0 is PT_RISCV_ATTRIBUTES, which is not loaded
  assert.equal(elf.symbols.get('tohost'), 0x80001000);
  assert.equal(elf.symbols.get('fromhost'), 0x80001040);
  assert.equal(elf.symbols.get('_start'), 0x80000000);
  assert.equal(elf.symbols.get('_end'), 0x80003044);
  assert.equal(elf.symbols.get('reset_vector'), 0x80000018);
  assert.deepEqual(elf.symbolList.find((s) => s.name === 'helper'), { name: 'helper', value: 0x80002000, size: 4, kind: 'func', global: true });
  assert.deepEqual(elf.symbolList.find((s) => s.name === 'data'), { name: 'data', value: 0x80003000, size: 4, kind: 'object', global: false });
  assert.ok(!elf.symbols.has('.text') && !elf.symbols.has('rvt.o'), 'section and file symbols are not names');
  // The first instruction is `j reset_vector` (jal zero, +0x18).
  assert.equal(dv(elf.segments[0]!.data).getUint32(0, true), 0x0180006f);
});

/** Mutate a copy of `src`: `f` edits it through a DataView. */
function mutate(src: Uint8Array, f: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = src.slice();
  f(dv(b), b);
  return b;
}

/** Offset of the section header of the first section of type `type`. */
function shdrOf(b: Uint8Array, type: number): number {
  const v = dv(b);
  const shoff = v.getUint32(32, true);
  for (let i = 0; i < v.getUint16(48, true); i++) if (v.getUint32(shoff + 40 * i + 4, true) === type) return shoff + 40 * i;
  throw new Error(`no section of type ${type}`);
}

test('every kind of malformed input gets its own message', () => {
  const ph = 52; // our writer puts the program headers right after the ELF header
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(0), /bad magic: not an ELF file/],
    ['bad magic', mutate(image(), (_, b) => { b[1] = 0x46; }), /bad magic: not an ELF file/],
    ['truncated header', image().slice(0, 40), /truncated file: 40 bytes, the ELF32 header needs 52/],
    ['ELF64', mutate(image(), (_, b) => { b[4] = 2; }), /not ELF32 \(EI_CLASS 2, ELF64\)/],
    ['big-endian', mutate(image(), (_, b) => { b[5] = 2; }), /not little-endian \(EI_DATA 2\)/],
    ['version', mutate(image(), (_, b) => { b[6] = 0; }), /unsupported ELF version \(EI_VERSION 0\)/],
    ['x86-64', mutate(image(), (v) => v.setUint16(18, 62, true)), /not RISC-V \(e_machine 62, want 243\)/],
    ['relocatable', mutate(image(), (v) => v.setUint16(16, 1, true)), /not an executable \(e_type 1, ET_REL; want ET_EXEC\)/],
    ['no phdrs', mutate(image(), (v) => v.setUint16(44, 0, true)), /no program headers \(nothing to load\)/],
    ['phentsize', mutate(image(), (v) => v.setUint16(42, 56, true)), /bad e_phentsize 56 \(want 32\)/],
    ['phdrs outside', mutate(image(), (v) => v.setUint32(28, 0xfffff000, true)), /program header table \(0xfffff000, 4 entries\) is outside the file/],
    ['segment outside', mutate(image(), (v) => v.setUint32(ph + 4, 0x100000, true)), /segment 0: file bytes 0x100000\.\.0x100008 are outside the file .*truncated\?/],
    ['truncated file', GNU_RVTEST.slice(0, 0x3000), /segment 2: file bytes 0x2000\.\.0x4004 are outside the file \(0x3000 bytes; truncated\?\)/],
    ['filesz > memsz', mutate(image(), (v) => v.setUint32(ph + 20, 4, true)), /segment 0: filesz 0x8 > memsz 0x4/],
    ['wrap', mutate(image(), (v) => v.setUint32(ph + 32 * 3 + 8, 0xfffff000, true)), /segment 3: 0xfffff000\+0x2000 wraps the 32-bit address space/],
    ['overlap', mutate(image(), (v) => v.setUint32(ph + 32 + 8, 0x80000004, true)), /segments 0 and 1 overlap/],
    ['no PT_LOAD', mutate(image(), (v) => { for (let i = 0; i < 4; i++) v.setUint32(ph + 32 * i, 4, true); }), /no PT_LOAD segment/],
    ['shentsize', mutate(image(), (v) => v.setUint16(46, 64, true)), /bad e_shentsize 64 \(want 40\)/],
    ['shdrs outside', mutate(image(), (v) => v.setUint32(32, 0x7fff0000, true)), /section header table \(0x7fff0000, \d+ entries\) is outside the file/],
    ['shstrndx', mutate(image(), (v) => v.setUint16(50, 99, true)), /e_shstrndx 99 >= e_shnum \d+/],
    ['symtab outside', mutate(image(), (v, b) => v.setUint32(shdrOf(b, 2) + 20, 0x100000, true)), /\.symtab \(section \d+\) at 0x[0-9a-f]+\+0x100000 is outside the file/],
    ['symtab link', mutate(image(), (v, b) => v.setUint32(shdrOf(b, 2) + 24, 1, true)), /\.symtab \(section \d+\): sh_link 1 is not a string table/],
    ['symtab entsize', mutate(image(), (v, b) => v.setUint32(shdrOf(b, 2) + 36, 24, true)), /\.symtab \(section \d+\): bad sh_entsize 24 \(want 16\)/],
    ['name offset', mutate(image(), (v, b) => v.setUint32(v.getUint32(shdrOf(b, 2) + 16, true) + 16, 0x10000, true)), /symbol 1: name offset 0x10000 is outside its string table/],
    ['name unterminated', mutate(image(), (v, b) => {
      const str = shdrOf(b, 3);
      b.fill(0x41, v.getUint32(str + 16, true), v.getUint32(str + 16, true) + v.getUint32(str + 20, true));
    }), /symbol 1: name is not NUL-terminated inside its string table/],
  ];
  const seen = new Set<string>();
  for (const [what, bytes, re] of cases) {
    assert.throws(() => parseElf32(bytes), (e: unknown) => {
      assert.ok(e instanceof ElfError, `${what}: ${String(e)}`);
      assert.match(e.message, re, what);
      seen.add(e.message.replace(/0x[0-9a-f]+|\d+/g, 'N'));
      return true;
    }, what);
  }
  // Distinct messages, except the two deliberately equal "bad magic" and "segment outside" pairs.
  assert.equal(seen.size, cases.length - 2);
});
