// Source text handling for the assembler: the error type, comment removal, statement and
// operand splitting, and string literals. Syntax follows GNU as (Using as, 3.1-3.6).

/** An assembly error, tied to a 1-based source line: "line 12: unknown instruction 'addx'". */
export class AsmError extends Error {
  constructor(readonly line: number, readonly source: string, readonly detail: string) {
    super(`line ${line}: ${detail}`);
    this.name = 'AsmError';
  }
}

/** An error about the statement being processed; the driver adds the line (→ AsmError). */
export class StatementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatementError';
  }
}

/** A symbol used in an expression has no definition anywhere in the source. */
export class UndefinedSymbol extends StatementError {
  constructor(readonly symbol: string) {
    super(`undefined symbol '${symbol}'`);
    this.name = 'UndefinedSymbol';
  }
}

/** One source line with comments removed, plus its number and original text. */
export interface SourceLine {
  readonly no: number;
  readonly text: string;
  readonly original: string;
}

/**
 * Split `source` into lines and remove comments: `#` and `//` to end of line, and C block
 * comments (which may span lines; line numbers are kept). Comment markers inside string and
 * character literals are not comments.
 */
export function stripComments(source: string): SourceLine[] {
  const originals = source.split(/\r?\n/);
  const out: SourceLine[] = [];
  let inBlock = false;
  let blockStart = 0;
  originals.forEach((orig, i) => {
    let text = '';
    let j = 0;
    while (j < orig.length) {
      if (inBlock) {
        const end = orig.indexOf('*/', j);
        if (end < 0) { j = orig.length; break; }
        inBlock = false;
        text += ' ';
        j = end + 2;
        continue;
      }
      const c = orig[j]!;
      if (c === '"' || c === "'") {
        const end = literalEnd(orig, j);
        text += orig.slice(j, end);
        j = end;
      } else if (c === '#' || (c === '/' && orig[j + 1] === '/')) {
        break;
      } else if (c === '/' && orig[j + 1] === '*') {
        inBlock = true;
        blockStart = i + 1;
        j += 2;
      } else {
        text += c;
        j++;
      }
    }
    out.push({ no: i + 1, text, original: orig });
  });
  if (inBlock) {
    throw new AsmError(blockStart, originals[blockStart - 1] ?? '', 'unterminated /* comment');
  }
  return out;
}

/** Index just past the string or character literal starting at s[i] (or s.length). A
 *  character literal is `'c'` or GNU's unterminated form `'c`. */
function literalEnd(s: string, i: number): number {
  const q = s[i];
  let j = i + 1;
  if (q === "'") {
    if (s[j] === '\\') j += 2; else j += 1;
    return s[j] === "'" ? j + 1 : Math.min(j, s.length);
  }
  while (j < s.length && s[j] !== q) j += s[j] === '\\' ? 2 : 1;
  return Math.min(j + 1, s.length);
}

/** Split on `sep` at nesting depth 0, outside string and character literals; trims parts. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"' || c === "'") { i = literalEnd(text, i); continue; }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === sep && depth <= 0) { parts.push(text.slice(start, i).trim()); start = i + 1; }
    i++;
  }
  parts.push(text.slice(start).trim());
  return parts;
}

/** Split a line into statements on `;` (the RISC-V line separator in GNU as). */
export function splitStatements(text: string): string[] {
  return splitTop(text, ';').filter((s) => s !== '');
}

/** Split an operand list on top-level commas. An empty list gives []. */
export function splitOperands(text: string): string[] {
  const t = text.trim();
  if (t === '') return [];
  const parts = splitTop(t, ',');
  if (parts.some((p) => p === '')) throw new StatementError(`empty operand in '${t}'`);
  return parts;
}

const SIMPLE_ESCAPES: Record<string, number> = {
  n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '\\': 92, '"': 34, "'": 39,
};

/**
 * Decode one string literal `"..."` (Using as 3.6.1.1): escapes \n \t \r \b \f \v \a \\ \" \'
 * \xHH and octal \NNN. Characters above U+00FF are written as UTF-8.
 */
export function parseString(text: string): Uint8Array {
  const t = text.trim();
  if (t.length < 2 || t[0] !== '"' || t[t.length - 1] !== '"' || literalEnd(t, 0) !== t.length) {
    throw new StatementError(`bad string literal ${t}`);
  }
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 1; i < t.length - 1; i++) {
    const c = t[i]!;
    if (c !== '\\') {
      const code = c.codePointAt(0)!;
      if (code < 0x80) bytes.push(code); else bytes.push(...enc.encode(c));
      continue;
    }
    const e = t[++i]!;
    if (e in SIMPLE_ESCAPES) bytes.push(SIMPLE_ESCAPES[e]!);
    else if (e === 'x' || e === 'X') {
      const m = /^[0-9a-fA-F]+/.exec(t.slice(i + 1, t.length - 1));
      if (!m) throw new StatementError(`bad \\x escape in ${t}`);
      bytes.push(parseInt(m[0], 16) & 0xff);
      i += m[0].length;
    } else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(t.slice(i, t.length - 1))!;
      bytes.push(parseInt(m[0], 8) & 0xff);
      i += m[0].length - 1;
    } else {
      throw new StatementError(`unknown escape \\${e} in ${t}`);
    }
  }
  return Uint8Array.from(bytes);
}
