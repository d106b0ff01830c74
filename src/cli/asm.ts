// `l4ts asm <file.S> -o <out.elf> [--base ADDR]`: assemble an RV32 program into an ELF32
// executable with the project's assembler (docs/TOOLCHAIN-ASM.md).

import { readFileSync, writeFileSync } from 'node:fs';
import { assemble, AsmError } from '../toolchain/asm/assemble.ts';
import { intOption, parseArgs, UsageError } from './args.ts';

export function asmCommand(argv: string[]): number {
  const args = parseArgs(argv, { o: { value: true }, base: { value: true } });
  const out = args.options.get('o')?.[0];
  if (args.positionals.length !== 1 || out === undefined) throw new UsageError('asm needs <file.S> --o <out.elf>');
  const path = args.positionals[0];
  const base = intOption(args, 'base', 0x8000_0000);
  try {
    const r = assemble(readFileSync(path, 'utf8'), { base });
    writeFileSync(out, r.elf);
    return 0;
  } catch (e) {
    if (e instanceof AsmError) {
      process.stderr.write(`l4ts: ${path}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
