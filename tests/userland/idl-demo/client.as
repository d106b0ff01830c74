// Client of the generator's test service: prints each result with Sys.DebugPutc.
import { DemoClient, DemoMixResult, DemoPageResult, DemoLastNoteResult, DemoWideResult } from './demo';

// @ts-ignore: decorator
@external("l4", "debugputc")
declare function putc(c: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32): i32;
function say(s: string): void { for (let i = 0; i < s.length; i++) putc(s.charCodeAt(i), 0, 0, 0, 0, 0, 0); }

export function main(): i32 {
  const d = new DemoClient(16);
  const m = new DemoMixResult();
  say('mix=' + d.mix(-5, true, 30, m).toString() + ' neg=' + m.neg.toString() + ' inverted=' + (m.inverted ? 'true' : 'false') + ' capType=' + m.capType.toString() + '\n');
  say('mix0=' + d.mix(7, false, 0, m).toString() + ' neg=' + m.neg.toString() + ' inverted=' + (m.inverted ? 'true' : 'false') + ' capType=' + m.capType.toString() + '\n');
  const p = new DemoPageResult();
  d.recvWindow = 0x4000_0000 | (0 << 4);
  say('page=' + d.page(p).toString() + ' where=0x' + p.where.toString(16) + ' magic=0x' + p.magic.toString(16) + ' reads=0x' + load<u32>(0x4000_0000).toString(16) + '\n');
  say('note=' + d.note(1234).toString() + '\n');
  const l = new DemoLastNoteResult();
  say('lastNote=' + d.lastNote(l).toString() + ' v=' + l.v.toString() + '\n');
  const w = new DemoWideResult();
  say('wide=' + d.wide(1, 2, 3, 4, 5, 6, w).toString() + ' sum=' + w.sum.toString() + ' r5=' + w.r5.toString() + ' r4=' + w.r4.toString() + '\n');
  say('fails=' + d.fails().toString() + '\n');
  say('done\n');
  return 0;
}
