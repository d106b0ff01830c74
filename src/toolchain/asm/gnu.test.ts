// The assembler against GNU as + ld 2.40: one large source (every instruction in the table with
// extreme and random operands, every pseudo-instruction, relocation operator and directive) must
// give byte-identical sections and the same symbol values. The GNU output is checked in
// (gnu-fixture.ts, made by gen-gnu-fixtures.ts), so this test needs no binutils.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from './assemble.ts';
import { GNU_SECTIONS, GNU_SOURCE, GNU_SYMBOLS } from './gnu-fixture.ts';
import { disassemble } from '../rv32/encode.ts';

function unhex(s: string): Uint8Array {
  const hex = s.replace(/\(0\*(\d+)\)/g, (_m, n: string) => '00'.repeat(Number(n))).replace(/\s+/g, '');
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
}

const result = assemble(GNU_SOURCE);

test('every section is byte-identical to GNU', () => {
  for (const [name, addr, hex] of GNU_SECTIONS) {
    const want = unhex(hex);
    const ours = result.sections.find((s) => s.name === name);
    assert.ok(ours, `no ${name}`);
    assert.equal(ours.vaddr, addr, `${name} address`);
    assert.equal(ours.data.length, want.length, `${name} size`);
    for (let i = 0; i < want.length; i += 4) {
      const a: Uint8Array = ours.data.subarray(i, i + 4);
      const b: Uint8Array = want.subarray(i, i + 4);
      if (a.some((v: number, k: number) => v !== b[k])) {
        const w = (x: Uint8Array): number => new DataView(x.buffer, x.byteOffset).getUint32(0, true);
        const at = addr + i;
        const line = result.lines.get(at);
        assert.fail(`${name}+0x${i.toString(16)} (source line ${line}): ours ${disassemble(w(a), at)}, GNU ${disassemble(w(b), at)}`);
      }
    }
  }
});

test('every .text word is an instruction the disassembler knows', () => {
  const text = result.sections.find((s) => s.name === '.text')!;
  assert.equal(text.data.length % 4, 0);
  const dv = new DataView(text.data.buffer, text.data.byteOffset, text.data.byteLength);
  for (let i = 0; i < text.data.length; i += 4) {
    assert.doesNotMatch(disassemble(dv.getUint32(i, true)), /^\.word/, `.text+0x${i.toString(16)}`);
  }
});

test('symbol values equal GNU nm', () => {
  for (const [name, value] of GNU_SYMBOLS) assert.equal(result.symbols.get(name), value, name);
});

test('.bss size and ELF entry match the GNU link', () => {
  const bss = result.sections.find((s) => s.name === '.bss');
  assert.equal(bss?.vaddr, 0x80004000);
  assert.equal(bss?.memsz, 0x74);
  assert.equal(result.entry, 0x80000000);
  assert.deepEqual(result.notes, ["line 2: '.option norvc' ignored (no compressed instructions, no relaxation)"]);
});
