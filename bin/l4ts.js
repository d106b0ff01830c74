#!/usr/bin/env node
// The `l4ts` command. The sources are TypeScript, run through tsx's loader (a dependency).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
