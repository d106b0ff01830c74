// hello: prints a greeting through the console service and exits. main's 0 becomes RtCall.Exit,
// which the supervisor (its exception handler, when it has a restart policy) records.

import { print, setConsoleTag } from "../lib/console";

export function main(): i32 {
  setConsoleTag("hello");
  const e = print("Hello, world! from a user task, through the console driver.");
  return e == 0 ? 0 : 1;
}
