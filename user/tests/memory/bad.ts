// Memory-manager test: touches memory nobody gave it (inside the linear-memory range, beyond
// its size). The memory manager refuses the fault; this thread never runs on.
import { say } from '../idl/debug';

export function main(): i32 {
  say('bad: before\n');
  const v = load<u32>(0x1000_0000);
  say('bad: after ' + v.toString() + '\n');
  return 0;
}
