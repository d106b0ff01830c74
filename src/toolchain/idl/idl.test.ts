import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdl, IdlError } from './parse.ts';
import { generateAll, generateService, GEN_DIR, snake } from './gen.ts';

test('idl: the generated files in user/lib/gen are up to date (node --import tsx src/toolchain/idl/gen.ts)', () => {
  for (const [name, text] of generateAll()) {
    const p = join(GEN_DIR, name);
    assert.ok(existsSync(p), `user/lib/gen/${name} is missing`);
    assert.equal(readFileSync(p, 'utf8'), text, `user/lib/gen/${name} is stale`);
  }
});

const ok = (ops: unknown, extra: Record<string, unknown> = {}): string => JSON.stringify({ service: 'demo', operations: ops, ...extra }, null, 2);

test('idl: a valid file parses into operations with labels, fields and errors', () => {
  const s = parseIdl(ok([
    { name: 'put', label: '0x10', args: [{ name: 'key', type: 'u32' }, { name: 'data', type: 'bytes', max: 16 }], results: [{ name: 'old', type: 'i32' }, { name: 'frame', type: 'cap' }], errors: ['NoMemory'] },
    { name: 'ping', label: 2, oneway: true, nonblocking: true },
  ]), 'demo.json');
  assert.equal(s.service, 'demo');
  assert.equal(s.operations[0]!.label, 0x10);
  assert.deepEqual(s.operations[0]!.args.map((f) => f.type), ['u32', 'bytes']);
  assert.equal(s.operations[1]!.oneway, true);
  const code = generateService(s);
  assert.match(code, /export class DemoClient/);
  assert.match(code, /export function demoDispatch/);
  assert.match(code, /put\(key: u32, data: Uint8Array, out: DemoPutResult\): i32/);
  assert.equal(snake('shareAlloc'), 'SHARE_ALLOC');
});

function refuses(text: string, re: RegExp): void {
  assert.throws(() => parseIdl(text, 'x.json'), (e: unknown) => {
    assert.ok(e instanceof IdlError, String(e));
    assert.match(e.message, re);
    return true;
  });
}

test('idl: bad files are refused with the field, its line and column, and why', () => {
  refuses('{ "service": "demo", "operations": [ ] ', /^x\.json:1:\d+: JSON syntax error/);
  refuses('{ "service": "demo", "operations": [] }', /^x\.json:1:\d+: operations: must not be empty/);
  refuses(ok([{ name: 'a', label: 1 }, { name: 'a', label: 2 }]), /^x\.json:\d+:\d+: operations\[1\]\.name: operation "a" is already declared \(operations\[0\]\)/);
  refuses(ok([{ name: 'a', label: 1 }, { name: 'b', label: 1 }]), /operations\[1\]\.label: label 0x1 is already the label of "a"/);
  refuses(ok([{ name: 'a', label: 0xfffff }]), /fault label of the kernel/);
  refuses(ok([{ name: 'a', label: 0 }]), /out of range 1\.\.0xffffd/);
  refuses(ok([{ name: 'a', label: 'one' }]), /expected an integer or a "0x\.\.\." string/);
  refuses(ok([{ name: 'a', label: 1, args: [{ name: 'x', type: 'u23' }] }]), /args\[0\]\.type: unknown type "u23" \(did you mean "u32"\?\)/);
  refuses(ok([{ name: 'a', label: 1, args: [{ name: 'x', type: 'bytes' }] }]), /missing required property "max"/);
  refuses(ok([{ name: 'a', label: 1, args: [{ name: 'x', type: 'bytes', max: 999 }] }]), /out of range 1\.\.224/);
  refuses(ok([{ name: 'a', label: 1, args: [{ name: 'x', type: 'map' }] }]), /a map item can only be a result/);
  refuses(ok([{ name: 'a', label: 1, results: [{ name: 'c1', type: 'cap' }, { name: 'c2', type: 'cap' }, { name: 'c3', type: 'cap' }, { name: 'c4', type: 'cap' }] }]), /4 capabilities, at most 3/);
  refuses(ok([{ name: 'a', label: 1, errors: ['NoMemroy'] }]), /unknown error "NoMemroy" \(did you mean "NoMemory"\?\)/);
  refuses(ok([{ name: 'a', label: 1, oneway: true, results: [{ name: 'x', type: 'u32' }] }]), /a oneway operation has no reply, so it cannot have results/);
  refuses(ok([{ name: 'a', label: 1, nonblocking: true }]), /only a oneway operation can be nonblocking/);
  refuses(ok([{ name: 'a', label: 1, lable: 2 }]), /operations\[0\]\.lable: unknown property \(did you mean "label"\?\)/);
  refuses(ok([{ name: 'a', label: 1, args: [{ name: 'badge', type: 'u32' }] }]), /"badge" is reserved/);
  refuses(ok([{ name: 'Get', label: 1 }]), /is not a valid operation name/);
  refuses(ok([{ name: 'a', label: 1, errors: ['Busy'] }], { status: { Ok: 0, Full: 1 } }), /unknown error "Busy".*the service's "status"/);
  refuses(ok([{ name: 'a', label: 1 }], { status: { Full: 1 } }), /must define "Ok": 0/);
  refuses(JSON.stringify({ service: 'Demo', operations: [{ name: 'a', label: 1 }] }), /"Demo" is not a valid service name/);
});
