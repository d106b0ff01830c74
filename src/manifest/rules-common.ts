// Helpers shared by the manifest rules (rules.ts, rules-grants.ts).

import { PAGE_SIZE } from '../abi/layout.ts';
import { ManifestError, formatPath, positionOf, show, didYouMean, type Path, type SourcePos } from './error.ts';
import { hex } from './board.ts';
import type { Component } from './types.ts';

/** Throws the ManifestError of a rule; `at` is where the refused value is. */
export class RuleFailer {
  constructor(private readonly positions: Map<string, SourcePos>) {}
  fail(at: Path, why: string): never {
    throw new ManifestError(formatPath(at), why, positionOf(this.positions, at));
  }
}

/** A list that names something twice is a mistake whatever the list. */
export function checkListedOnce(list: readonly string[], at: Path, f: RuleFailer): void {
  const field = at[at.length - 1];
  list.forEach((x, j) => {
    const k = list.indexOf(x);
    if (k < j) f.fail([...at, j], `${show(x)} is listed twice (also ${String(field)}[${k}])`);
  });
}

export function checkComponentName(name: string, cs: readonly Component[], at: Path, f: RuleFailer): void {
  if (!cs.some((c) => c.name === name)) f.fail(at, `no component is named ${show(name)}${didYouMean(name, cs.map((c) => c.name))}`);
}

/** For messages: `[0x8700_0000, 0x8710_0000)`. */
export function showRange(base: number, pages: number): string {
  return `[${hex(base)}, ${hex(base + pages * PAGE_SIZE)})`;
}
