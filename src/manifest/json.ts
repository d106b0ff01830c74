// A JSON parser (RFC 8259) that remembers where every value is and explains its refusals.
//
// JSON.parse reports "Unexpected token" with a character offset, differently on each Node
// version, and silently keeps the last of two equal property names. A manifest deserves better:
// this parser reports line and column and says what was expected (a trailing comma, a comment,
// a single-quoted string or a hexadecimal number each get their own message), refuses duplicate
// property names, and records the position of each value so that later checks can point at the
// line of the field they refuse.

import { ManifestError, formatPath, show, type PathStep, type SourcePos } from './error.ts';

export interface ParsedJson {
  value: unknown;
  /** Where each value starts, by formatPath of its path; for a property, where its name starts. */
  positions: Map<string, SourcePos>;
}

/** Deeper nesting than this is refused (a manifest needs five levels). */
export const JSON_MAX_DEPTH = 64;

/** Parse `text` as one JSON value. Throws ManifestError with the line and column of the fault. */
export function parseJson(text: string): ParsedJson {
  const p = new JsonParser(text);
  return { value: p.parseDocument(), positions: p.positions };
}

class JsonParser {
  private i = 0;
  private line = 1;
  private lineStart = 0;
  private readonly path: PathStep[] = [];
  readonly positions = new Map<string, SourcePos>();

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.i = this.lineStart = 1; // a UTF-8 byte-order mark
  }

  parseDocument(): unknown {
    this.skipSpace();
    if (this.i >= this.text.length) this.fail('the file is empty (expected a JSON object)');
    this.positions.set('', this.pos());
    const v = this.parseValue(0);
    this.skipSpace();
    if (this.i < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    return v;
  }

  private pos(): SourcePos {
    return { line: this.line, column: this.i - this.lineStart + 1 };
  }

  private fail(why: string, at: SourcePos = this.pos()): never {
    throw new ManifestError('', `JSON syntax error at line ${at.line}, column ${at.column}: ${why}`, at);
  }

  private describeHere(): string {
    if (this.i >= this.text.length) return 'end of file';
    const c = this.text.codePointAt(this.i)!;
    if (c < 0x20) return `control character U+${c.toString(16).padStart(4, '0')}`;
    if (c === 0x22) return 'a string';
    return show(String.fromCodePoint(c));
  }

  /** Skip JSON whitespace, counting lines; a comment is an error with its own message. */
  private skipSpace(): void {
    const t = this.text;
    while (this.i < t.length) {
      const c = t.charCodeAt(this.i);
      if (c === 0x0a) {
        this.i++;
        this.line++;
        this.lineStart = this.i;
      } else if (c === 0x20 || c === 0x09 || c === 0x0d) {
        this.i++;
      } else if (c === 0x2f && (t[this.i + 1] === '/' || t[this.i + 1] === '*')) {
        this.fail('comments are not allowed in JSON (use a "description" property instead)');
      } else {
        return;
      }
    }
  }

  private parseValue(depth: number): unknown {
    if (depth > JSON_MAX_DEPTH) this.fail(`nested more than ${JSON_MAX_DEPTH} levels deep`);
    const t = this.text;
    const c = t[this.i];
    if (c === '{') return this.parseObject(depth);
    if (c === '[') return this.parseArray(depth);
    if (c === '"') return this.parseString();
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
    if (c === "'") this.fail('strings must be in double quotes, not single quotes');
    if (this.i >= t.length) this.fail(`unexpected end of file (expected a value)`);
    const word = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(t.slice(this.i, this.i + 32));
    if (word !== null) {
      const w = word[0];
      if (w === 'true' || w === 'false' || w === 'null') {
        this.i += w.length;
        return w === 'true' ? true : w === 'false' ? false : null;
      }
      this.fail(`unknown word ${show(w)} (a value is an object, array, string, number, true, false or null)`);
    }
    this.fail(`unexpected ${this.describeHere()} (expected a value: an object, array, string, number, true, false or null)`);
  }

  private parseObject(depth: number): Record<string, unknown> {
    const open = this.pos();
    this.i++; // {
    const obj: Record<string, unknown> = {};
    const seen = new Map<string, SourcePos>();
    this.skipSpace();
    if (this.text[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      this.skipSpace();
      const c = this.text[this.i];
      if (c === '}') this.fail('trailing comma before "}" (JSON allows none)');
      if (this.i >= this.text.length) this.unclosed('{', open);
      if (c === "'") this.fail('property names must be in double quotes, not single quotes');
      if (c !== '"') this.fail(`expected a property name in double quotes, got ${this.describeHere()}`);
      const keyPos = this.pos();
      const key = this.parseString();
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ManifestError(formatPath(this.path), `property ${show(key)} appears twice (lines ${first.line} and ${keyPos.line})`, keyPos);
      }
      seen.set(key, keyPos);
      this.skipSpace();
      if (this.text[this.i] !== ':') {
        if (this.i >= this.text.length) this.unclosed('{', open);
        this.fail(`expected ":" after the property name ${show(key)}, got ${this.describeHere()}`);
      }
      this.i++;
      this.skipSpace();
      this.path.push(key);
      this.positions.set(formatPath(this.path), keyPos);
      const v = this.parseValue(depth + 1);
      this.path.pop();
      // defineProperty, not assignment: a property named "__proto__" must stay a property.
      Object.defineProperty(obj, key, { value: v, writable: true, enumerable: true, configurable: true });
      this.skipSpace();
      const d = this.text[this.i];
      if (d === ',') {
        this.i++;
        continue;
      }
      if (d === '}') {
        this.i++;
        return obj;
      }
      if (this.i >= this.text.length) this.unclosed('{', open);
      this.fail(`expected "," or "}" after the value of ${show(key)}, got ${this.describeHere()}`);
    }
  }

  private parseArray(depth: number): unknown[] {
    const open = this.pos();
    this.i++; // [
    const arr: unknown[] = [];
    this.skipSpace();
    if (this.text[this.i] === ']') {
      this.i++;
      return arr;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.i] === ']') this.fail('trailing comma before "]" (JSON allows none)');
      if (this.i >= this.text.length) this.unclosed('[', open);
      this.path.push(arr.length);
      this.positions.set(formatPath(this.path), this.pos());
      arr.push(this.parseValue(depth + 1));
      this.path.pop();
      this.skipSpace();
      const d = this.text[this.i];
      if (d === ',') {
        this.i++;
        continue;
      }
      if (d === ']') {
        this.i++;
        return arr;
      }
      if (this.i >= this.text.length) this.unclosed('[', open);
      this.fail(`expected "," or "]" after an array element, got ${this.describeHere()}`);
    }
  }

  private unclosed(bracket: string, open: SourcePos): never {
    this.fail(`unexpected end of file: the "${bracket}" at line ${open.line}, column ${open.column} is never closed`);
  }

  private parseString(): string {
    const t = this.text;
    const start = this.pos();
    this.i++; // "
    let out = '';
    let run = this.i;
    for (;;) {
      if (this.i >= t.length) this.fail('unterminated string', start);
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        out += t.slice(run, this.i);
        this.i++;
        return out;
      }
      if (c === 0x0a || c === 0x0d) this.fail('unterminated string (a string cannot continue on the next line)', start);
      if (c < 0x20) this.fail(`control character U+${c.toString(16).padStart(4, '0')} in a string must be written as an escape`);
      if (c !== 0x5c) {
        this.i++;
        continue;
      }
      out += t.slice(run, this.i);
      const e = t[this.i + 1];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        this.i += 2;
      } else if (e === 'u') {
        const hex = t.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail(`invalid escape ${t.slice(this.i, this.i + 6)}: \\u takes four hexadecimal digits`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.i += 6;
      } else {
        this.fail(`invalid escape \\${e ?? ''} in a string (valid: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
      }
      run = this.i;
    }
  }

  private parseNumber(): number {
    const t = this.text;
    const rest = t.slice(this.i, this.i + 64);
    if (/^-?0[xX]/.test(rest)) {
      this.fail('hexadecimal numbers are not JSON; write the value as a string, e.g. "0x1000_0000"');
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(rest);
    if (m === null) this.fail(`invalid number ${show(/^[-+.\w]*/.exec(rest)![0])}`);
    const after = t[this.i + m[0].length];
    if (m[1] === '0' && after !== undefined && after >= '0' && after <= '9') this.fail('numbers cannot have leading zeros');
    if (after !== undefined && /[.eE\w]/.test(after)) this.fail(`invalid number ${show(/^[-+.\w]*/.exec(rest)![0])}`);
    this.i += m[0].length;
    return Number(m[0]);
  }
}
