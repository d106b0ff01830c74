// Prints one line and exits cleanly: with restart policy `always` the supervisor starts it
// again after every exit, without limit.

import { print, setConsoleTag } from "../../lib/console";

export function main(): i32 {
  setConsoleTag("repeater");
  print("again");
  return 0;
}
