// IDL pair test, client side: looks up "console" with the generated names client (a capability
// arrives), writes through the generated console client, reads back, and prints what happened
// with Sys.DebugPutc; ends with "done\n".
import { NamesClient, NamesLookupResult, NAMES_NO_SUCH_SERVICE } from '../../lib/gen/names';
import { ConsoleClient, ConsoleWriteResult, ConsoleReadResult } from '../../lib/gen/console';
import { ERR_WOULD_BLOCK } from '../../lib/gen/rt';
import { say, sayNum } from './debug';

function bytes(s: string): Uint8Array { return Uint8Array.wrap(String.UTF8.encode(s)); }

export function main(): i32 {
  const names = new NamesClient(17);
  names.recvSlot = 20;
  const lr = new NamesLookupResult();
  say('nosuch=' + (names.lookup(bytes('disk'), lr) == NAMES_NO_SUCH_SERVICE ? 'ok' : 'bad') + '\n');
  const st = names.lookup(bytes('console'), lr);
  say('lookup=' + st.toString() + ' slot=' + lr.endpoint.toString() + ' registered=' + lr.registered.toString() + '\n');
  const con = new ConsoleClient(lr.endpoint);
  const rr = new ConsoleReadResult();
  say('empty=' + (con.read(10, rr) == ERR_WOULD_BLOCK ? 'wouldblock' : 'bad') + '\n');
  const wr = new ConsoleWriteResult();
  say('write=' + con.write(bytes('hello, world'), wr).toString() + ' written=' + wr.written.toString() + '\n');
  say('read=' + con.read(5, rr).toString() + ' text=' + String.UTF8.decode(rr.text.buffer) + '\n');
  say('read=' + con.read(100, rr).toString() + ' text=' + String.UTF8.decode(rr.text.buffer) + '\n');
  let long = '';
  for (let i = 0; i < 250; i++) long += 'x';
  say('toolong=' + con.write(bytes(long), wr).toString() + '\n');
  say('done\n');
  return 0;
}
