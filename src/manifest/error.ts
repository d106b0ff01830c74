// ManifestError and the field paths its messages name (docs/MANIFEST.md "Errors").
//
// Every refusal of a manifest is one ManifestError whose message is
//   manifest: <path>: <why>          e.g. manifest: components[2].priority: 300 is out of range 0..255
//   manifest: <why>                  when the problem is the file as a whole (JSON syntax, top level)
// `path` is the field, `line`/`column` (1-based) where that field's value starts in the text,
// when known, so that a front end can print `file:line:column: message`.

/** One step of a path into the manifest: a property name or an array index. */
export type PathStep = string | number;
export type Path = readonly PathStep[];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `components[2].devices[0].slot`; property names that are not identifiers are quoted. */
export function formatPath(path: Path): string {
  let s = '';
  for (const step of path) {
    if (typeof step === 'number') s += `[${step}]`;
    else if (IDENT.test(step)) s += s === '' ? step : `.${step}`;
    else s += `[${JSON.stringify(step)}]`;
  }
  return s;
}

export interface SourcePos {
  /** 1-based line and column (columns count UTF-16 code units, as editors do for BMP text). */
  line: number;
  column: number;
}

/** Where the value at `path` is, or failing that (a defaulted field) its nearest enclosing value. */
export function positionOf(positions: ReadonlyMap<string, SourcePos>, path: Path): SourcePos | null {
  for (let n = path.length; n >= 0; n--) {
    const pos = positions.get(formatPath(path.slice(0, n)));
    if (pos !== undefined) return pos;
  }
  return null;
}

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    /** The field, as formatPath prints it ('' for the whole file). */
    readonly path: string,
    /** Why it is refused (the message without the `manifest: <path>: ` prefix). */
    readonly reason: string,
    readonly pos: SourcePos | null = null,
  ) {
    super(path === '' ? `manifest: ${reason}` : `manifest: ${path}: ${reason}`);
  }
}

/** Quote a value for a message: strings in double quotes, other JSON values as JSON. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The closest of `candidates` to `word` if it is a plausible typo (edit distance <= 2, or a
 *  case-only difference), else null. Used for "did you mean" hints. */
export function closest(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : editDistance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  const limit = word.length <= 3 ? 1 : 2;
  return bestD <= limit ? best : null;
}

/** " (did you mean "x"?)" or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === null ? '' : ` (did you mean ${show(c)}?)`;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment distance: insertions, deletions, substitutions, transpositions.
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}
