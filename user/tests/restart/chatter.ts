// Writes lines to the console in fragments, yielding between them, so that two chatters'
// fragments reach the console interleaved: the console must still print whole lines. Its tag
// is its badge (no setConsoleTag), e.g. `[9] chatter line 3`.

import { yieldCpu } from "../../lib/l4";
import { write } from "../../lib/console";

export function main(): i32 {
  for (let i = 0; i < 5; i++) {
    write("chatter ");
    yieldCpu();
    write("line ");
    yieldCpu();
    write(i.toString() + " end\n");
    yieldCpu();
  }
  return 0;
}
