// storage-refused: a component that does not list "blk" in its `uses` (manifests/storage.json)
// asks the name service for it anyway and must be refused (NamesStatus.NotAllowed).
import { print, setConsoleTag, findService } from '../lib/console';
import { NamesStatus } from '../lib/bootplan';

export function main(): i32 {
  setConsoleTag('intruder');
  const s = findService('blk', 200);
  const refused = s == -(100 + NamesStatus.NotAllowed);
  print('lookup of blk: ' + s.toString() + (refused ? ' (refused: not allowed)' : ' (NOT refused)'));
  return refused ? 0 : 1;
}
