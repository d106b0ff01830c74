// `npm run bench -- <suite> [options]`: runs one benchmark suite. Each suite prints a readable
// report and, as its last line, one JSON object with its figures (docs/BENCHMARKS.md).

const suites: Record<string, () => Promise<{ main(argv: string[]): Promise<void> }>> = {
  cpu: () => import('./cpu.ts'),
  kernel: () => import('./kernel.ts'),
  toolchain: () => import('./toolchain-suite.ts'),
  io: () => import('./io.ts'),
};

const [name, ...rest] = process.argv.slice(2);
const load = name === undefined ? undefined : suites[name];
if (load === undefined) {
  process.stderr.write(`usage: npm run bench -- <suite>\nsuites: ${Object.keys(suites).join(', ')}\n`);
  process.exit(2);
}
await (await load()).main(rest);
