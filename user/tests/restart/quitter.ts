// Exits with status 1 at once: with restart policy on-failure and maxRestarts 2 the supervisor
// restarts it twice and then gives up; nothing else is disturbed.

import { print, setConsoleTag } from "../../lib/console";

export function main(): i32 {
  setConsoleTag("quitter");
  print("quitting");
  return 1;
}
