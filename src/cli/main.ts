// `l4ts <command> ...`: the command-line front end. It only drives the layers below and listens
// to their events; nothing here is part of the machine or the kernel.

import { UsageError } from './args.ts';
import { runBareCommand } from './run-bare.ts';
import { startCommand } from './start.ts';
import { bootCommand } from './boot.ts';
import { asmCommand } from './asm.ts';
import { buildCommand, buildUserCommand, runCommand } from './build-run.ts';

const USAGE = `usage: l4ts <command> [options]

commands:
  start
      boot the default system (what \`npm start\` runs)
  boot [manifest] [--disk FILE] [--trace FILE] [--caps[=boot]] [--max-insns N] [--eager] [--base DIR]
      validate the manifest (default manifests/default.json), build its images (cached in
      build/boot-cache), boot the kernel with the root task and run; the UART is the terminal.
      --caps lets the system settle (idle, or --max-insns, default 200M) and prints its capability
      distribution from the kernel, checked against the manifest (unexplained lines: exit 1);
      --caps=boot prints what the root task handed out, the moment it has finished.
      --eager: the root task loads every image (default: the memory manager pages them in)
      --base DIR: image paths are relative to DIR (default: the project root for manifests/*.json)
      --disk FILE (repeatable): a virtio-blk disk on that image file, slots from 0; every other
      slot the manifest expects a "net" device in gets a virtio-net NIC, all on one switch
      exit status: 0 when the system idles (input closed) or halts; a component that exits, is
      killed, faults or is given up on is reported on stderr (the supervisor's or memory
      manager's line), not in the status. The test device's code when it powers off, 124 when
      --max-insns runs out, 126 on reset, 1 for a failed build or (--caps) an unexplained
      distribution, 2 for a bad manifest, disk or boot plan
  build <file.ts> --o <out.elf>
      compile an AssemblyScript program (asc -O3, then wasm2rv) into an RV32 ELF
  run <elf> [--max-insns N] [--trace FILE]
      boot the kernel with a compiled program as the root task; exits with what main()
      returns. --trace writes the kernel's events as Chrome trace JSON
  build-user
      build every AssemblyScript program under user/ into build/user/ (npm run build:user)
  asm <file.S> --o <out.elf> [--base ADDR]
      assemble an RV32 program into an ELF32 executable
  run-bare <elf> [--disk FILE] [--max-insns N]
      run a bare-metal RV32 ELF in M-mode on the board; the UART is stdin/stdout.
      Exit status 0 when the program reports success (test device PASS or tohost = 1).
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'start':
        return await startCommand(rest);
      case 'boot':
        return await bootCommand(rest);
      case 'build':
        return await buildCommand(rest);
      case 'build-user':
        return await buildUserCommand(rest);
      case 'run':
        return runCommand(rest);
      case 'asm':
        return asmCommand(rest);
      case 'run-bare':
        return await runBareCommand(rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`l4ts: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}
