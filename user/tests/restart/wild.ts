// A component that writes through a wild pointer far outside its heap (a page the memory
// manager refuses: not in its memory) as soon as it starts. tests/restart/never.test.ts boots it
// with restart policy `never`: the refused fault must be reported (by the supervisor, or by the
// memory manager when there is no supervisor), the component stopped, the rest carry on.
import { debugPrint } from "../../lib/l4";

export function main(): i32 {
  debugPrint("writing through a wild pointer\n");
  store<i32>(<usize>0x7000_0000, 42);
  debugPrint("still running after the wild write\n");
  return 0;
}
