// A stand-in component for boot tests: says that it runs (debug console) and exits.
import { debugPrint } from "../../lib/l4";

export function main(): i32 {
  debugPrint("stub: running\n");
  return 0;
}
