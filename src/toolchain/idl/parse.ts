// The interface description language of l4ts services (docs/USERLAND.md "Service interfaces").
//
// A service protocol is declared once, in a JSON file under user/idl/, in the spirit of Hubris's
// idol and CAmkES's procedures; src/toolchain/idl/gen.ts turns it into AssemblyScript client
// stubs and a server dispatcher (user/lib/gen/<service>.ts). This file parses and checks an IDL
// file and explains every refusal with its line and column:
//
//   {
//     "service": "memory",
//     "doc": "what it is",
//     "operations": [
//       { "name": "quota", "label": 1, "doc": "...",
//         "args":    [ { "name": "client", "type": "u32" } ],
//         "results": [ { "name": "pages", "type": "u32" }, { "name": "frame", "type": "cap" } ],
//         "errors":  [ "NoMemory" ],
//         "oneway":  false }
//     ]
//   }
//
// Types: i32, u32, bool (one message register each); cap (a capability: a slot of the sender,
// transferred; at most 3 per message); bytes (at most one per direction, with "max" bytes,
// carried as a length word plus packed words in the UTCB message registers); map (results only:
// the reply carries a map item). Labels are 1..0xffffd, unique; 0xffffe and 0xfffff are the
// kernel's fault labels (src/abi/message.ts FaultLabel). Error names are those of
// src/abi/errors.ts Err.

import { parseJson } from '../../manifest/json.ts';
import { ManifestError, closest, formatPath, positionOf, show, type Path, type SourcePos } from '../../manifest/error.ts';
import { Err } from '../../abi/errors.ts';
import { FaultLabel, MSG_MAX, MSG_MAX_CAPS } from '../../abi/message.ts';

export type ScalarType = 'i32' | 'u32' | 'bool';
export type FieldType = ScalarType | 'cap' | 'bytes' | 'map';

export interface Field {
  name: string;
  type: FieldType;
  /** bytes: the largest length. */
  max: number;
  doc: string;
}

export interface Operation {
  name: string;
  label: number;
  doc: string;
  args: Field[];
  results: Field[];
  errors: string[];
  /** No reply: the client sends (Send, or NbSend when `nonblocking`) and goes on. */
  oneway: boolean;
  nonblocking: boolean;
}

export interface Service {
  service: string;
  doc: string;
  /** The service's own status codes (reply MR0), when it does not use src/abi/errors.ts Err. */
  status: Map<string, number> | null;
  operations: Operation[];
}

export class IdlError extends Error {
  override readonly name = 'IdlError';
  constructor(readonly file: string, readonly path: string, readonly reason: string, readonly pos: SourcePos | null) {
    super(`${file}${pos === null ? '' : `:${pos.line}:${pos.column}`}: ${path === '' ? '' : `${path}: `}${reason}`);
  }
}

const SCALARS: readonly string[] = ['i32', 'u32', 'bool'];
const TYPES: readonly string[] = [...SCALARS, 'cap', 'bytes', 'map'];
const IDENT = /^[a-z][A-Za-z0-9]*$/;
const SERVICE_NAME = /^[a-z][a-z0-9]*$/;
/** Names the generated code uses itself. */
const RESERVED = new Set(['badge', 'info', 'ep', 'out', 'recvSlot', 'recvWindow', 'constructor', 'other', 'serve', 'dispatch', 'status', 'err', 'got', 'len', 'label', 'ncaps', 's', 'st', 'mr', 'reply']);
/** Bytes fit in the message registers (MR0..MR63) with the scalars and a length word. */
export const BYTES_MAX_LIMIT = (MSG_MAX - 8) * 4;
export const LABEL_MAX = 0xffffd;

const OP_KEYS = ['name', 'label', 'doc', 'args', 'results', 'errors', 'oneway', 'nonblocking'];
const FIELD_KEYS = ['name', 'type', 'max', 'doc'];
const TOP_KEYS = ['service', 'doc', 'status', 'operations'];

/** Parse and check the IDL text of `file` (the name is used in messages only). */
export function parseIdl(text: string, file: string): Service {
  let parsed;
  try {
    parsed = parseJson(text);
  } catch (e) {
    if (e instanceof ManifestError) throw new IdlError(file, '', e.reason, e.pos);
    throw e;
  }
  const positions = parsed.positions;
  const fail = (path: Path, why: string): never => {
    throw new IdlError(file, formatPath(path), why, positionOf(positions, path));
  };
  const obj = (v: unknown, path: Path, keys: readonly string[]): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `expected an object, got ${show(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) {
        const near = closest(k, keys);
        fail([...path, k], `unknown property${near !== null ? ` (did you mean "${near}"?)` : ` (allowed: ${keys.join(', ')})`}`);
      }
    }
    return o;
  };
  const str = (o: Record<string, unknown>, k: string, path: Path, required: boolean): string => {
    const v = o[k];
    if (v === undefined) {
      if (required) fail(path, `missing required property "${k}"`);
      return '';
    }
    if (typeof v !== 'string') fail([...path, k], `expected a string, got ${show(v)}`);
    return v as string;
  };
  const bool = (o: Record<string, unknown>, k: string, path: Path): boolean => {
    const v = o[k];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') fail([...path, k], `expected true or false, got ${show(v)}`);
    return v as boolean;
  };
  const arr = (o: Record<string, unknown>, k: string, path: Path): unknown[] => {
    const v = o[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) fail([...path, k], `expected an array, got ${show(v)}`);
    return v as unknown[];
  };

  const top = obj(parsed.value, [], TOP_KEYS);
  const service = str(top, 'service', [], true);
  if (!SERVICE_NAME.test(service)) fail(['service'], `${show(service)} is not a valid service name (lower-case letters and digits, starting with a letter)`);
  const doc = str(top, 'doc', [], false);
  let status: Map<string, number> | null = null;
  if (top.status !== undefined) {
    const so = top.status;
    if (typeof so !== 'object' || so === null || Array.isArray(so)) fail(['status'], `expected an object of status names and codes, got ${show(so)}`);
    status = new Map();
    const codes = new Map<number, string>();
    for (const [k, v] of Object.entries(so as Record<string, unknown>)) {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(k)) fail(['status', k], `${show(k)} is not a valid status name (PascalCase)`);
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0x7fffffff) fail(['status', k], `expected a status code 0..0x7fffffff, got ${show(v)}`);
      const prev = codes.get(v as number);
      if (prev !== undefined) fail(['status', k], `code ${v} is already the code of "${prev}"`);
      codes.set(v as number, k);
      status.set(k, v as number);
    }
    if (status.get('Ok') !== 0) fail(['status'], 'must define "Ok": 0 (the status of a successful reply)');
  }
  const opsRaw = top.operations;
  if (opsRaw === undefined) fail([], 'missing required property "operations"');
  if (!Array.isArray(opsRaw)) fail(['operations'], `expected an array, got ${show(opsRaw)}`);
  if ((opsRaw as unknown[]).length === 0) fail(['operations'], 'must not be empty');

  const operations: Operation[] = [];
  const names = new Map<string, number>();
  const labels = new Map<number, number>();
  (opsRaw as unknown[]).forEach((raw, i) => {
    const p: Path = ['operations', i];
    const o = obj(raw, p, OP_KEYS);
    const name = str(o, 'name', p, true);
    if (!IDENT.test(name)) fail([...p, 'name'], `${show(name)} is not a valid operation name (camelCase, starting with a lower-case letter)`);
    if (RESERVED.has(name)) fail([...p, 'name'], `"${name}" is reserved by the generated code`);
    const prev = names.get(name);
    if (prev !== undefined) fail([...p, 'name'], `operation "${name}" is already declared (operations[${prev}])`);
    names.set(name, i);

    const label = parseLabel(o.label, [...p, 'label'], fail);
    const prevL = labels.get(label);
    if (prevL !== undefined) fail([...p, 'label'], `label 0x${label.toString(16)} is already the label of "${operations[prevL]!.name}" (operations[${prevL}])`);
    labels.set(label, i);

    const fields = (k: 'args' | 'results'): Field[] => {
      const out: Field[] = [];
      const seen = new Map<string, number>();
      arr(o, k, p).forEach((fr, j) => {
        const fp: Path = [...p, k, j];
        const f = obj(fr, fp, FIELD_KEYS);
        const fname = str(f, 'name', fp, true);
        if (!IDENT.test(fname)) fail([...fp, 'name'], `${show(fname)} is not a valid field name (camelCase, starting with a lower-case letter)`);
        if (RESERVED.has(fname)) fail([...fp, 'name'], `"${fname}" is reserved by the generated code`);
        const dup = seen.get(fname);
        if (dup !== undefined) fail([...fp, 'name'], `"${fname}" is already a field of this operation (${k}[${dup}])`);
        seen.set(fname, j);
        const type = str(f, 'type', fp, true);
        if (!TYPES.includes(type)) {
          const near = closest(type, TYPES);
          fail([...fp, 'type'], `unknown type ${show(type)}${near !== null ? ` (did you mean "${near}"?)` : ''} (types: ${TYPES.join(', ')})`);
        }
        if (type === 'map' && k === 'args') fail([...fp, 'type'], 'a map item can only be a result (the server maps pages to its client in the reply)');
        let max = 0;
        if (type === 'bytes') {
          if (f.max === undefined) fail(fp, 'missing required property "max" (the largest length in bytes) for type "bytes"');
          if (typeof f.max !== 'number' || !Number.isInteger(f.max)) fail([...fp, 'max'], `expected an integer, got ${show(f.max)}`);
          max = f.max as number;
          if (max < 1 || max > BYTES_MAX_LIMIT) fail([...fp, 'max'], `${max} is out of range 1..${BYTES_MAX_LIMIT} (the bytes travel in the message registers)`);
        } else if (f.max !== undefined) {
          fail([...fp, 'max'], `"max" is for type "bytes" only, not "${type}"`);
        }
        out.push({ name: fname, type: type as FieldType, max, doc: str(f, 'doc', fp, false) });
      });
      const count = (t: FieldType): number => out.filter((x) => x.type === t).length;
      if (count('cap') > MSG_MAX_CAPS) fail([...p, k], `${count('cap')} capabilities, at most ${MSG_MAX_CAPS} travel in one message`);
      if (count('bytes') > 1) fail([...p, k], 'at most one "bytes" field per direction');
      if (count('map') > 1) fail([...p, k], 'at most one "map" result');
      const words = wordsOf(out) + (k === 'results' ? 1 : 0);
      if (words > MSG_MAX) fail([...p, k], `needs ${words} message registers, at most ${MSG_MAX} exist`);
      return out;
    };
    const args = fields('args');
    const results = fields('results');
    const oneway = bool(o, 'oneway', p);
    const nonblocking = bool(o, 'nonblocking', p);
    if (nonblocking && !oneway) fail([...p, 'nonblocking'], 'only a oneway operation can be nonblocking (a call always waits for its reply)');
    if (oneway && results.length > 0) fail([...p, 'results'], 'a oneway operation has no reply, so it cannot have results');
    if (oneway && args.some((a) => a.type === 'cap')) fail([...p, 'args'], 'a oneway operation cannot transfer capabilities (only calls on endpoints with Grant, or replies, carry them; declare it a call)');
    const errors = arr(o, 'errors', p).map((e, j) => {
      const ep: Path = [...p, 'errors', j];
      if (typeof e !== 'string') fail(ep, `expected an error name, got ${show(e)}`);
      const known = status === null ? Object.keys(Err) : [...status.keys()];
      if (!known.includes(e as string) || e === 'Ok') {
        const near = closest(e as string, known.filter((k) => k !== 'Ok'));
        fail(ep, `unknown error ${show(e)}${near !== null ? ` (did you mean "${near}"?)` : ''} (${status === null ? 'src/abi/errors.ts Err' : 'the service\'s "status"'})`);
      }
      return e as string;
    });
    if (oneway && errors.length > 0) fail([...p, 'errors'], 'a oneway operation has no reply to carry an error');
    operations.push({ name, label, doc: str(o, 'doc', p, false), args, results, errors, oneway, nonblocking });
  });
  return { service, doc, status, operations };
}

function parseLabel(v: unknown, path: Path, fail: (p: Path, why: string) => never): number {
  let n: number;
  if (v === undefined) return fail(path.slice(0, -1), 'missing required property "label"');
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^0x[0-9a-fA-F]+$/.test(v)) n = parseInt(v.slice(2), 16);
  else return fail(path, `expected an integer or a "0x..." string, got ${show(v)}`);
  if (n === FaultLabel.PageFault || n === FaultLabel.Exception) return fail(path, `0x${n.toString(16)} is a fault label of the kernel (src/abi/message.ts FaultLabel)`);
  if (n < 1 || n > LABEL_MAX) return fail(path, `${n} is out of range 1..0x${LABEL_MAX.toString(16)} (label 0 is the reply; labels have 20 bits)`);
  return n;
}

/** Message registers a list of fields takes (caps and maps take none; bytes a length word plus
 *  its packed words). */
export function wordsOf(fields: readonly Field[]): number {
  let n = 0;
  for (const f of fields) {
    if (f.type === 'cap' || f.type === 'map') continue;
    n += f.type === 'bytes' ? 1 + Math.ceil(f.max / 4) : 1;
  }
  return n;
}
