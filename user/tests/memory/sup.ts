// Memory-manager test: a stand-in supervisor on slot 16 that receives the memory manager's
// memFault reports, stops the faulting thread (its Thread capability is at slot 18), resets
// the client through memory.reset and prints its counters.
import { SupervisorServer, supervisorServe } from '../../lib/gen/supervisor';
import { MemoryClient, MemoryStatsResult } from '../../lib/gen/memory';
import { CompSlot } from '../../lib/abi';
import { threadSuspend } from '../../lib/objects';
import { say } from '../idl/debug';

const mem = new MemoryClient(CompSlot.Memory);
const st = new MemoryStatsResult();

class Sup extends SupervisorServer {
  memFault(badge: u32, client: u32, addr: u32, pc: u32, access: u32, reason: u32): i32 {
    say('memFault client=' + client.toString() + ' addr=0x' + addr.toString(16) + ' access=' + access.toString() + ' reason=' + reason.toString() + '\n');
    threadSuspend(18);
    mem.stats(client, st);
    say('before reset: used=' + st.used.toString() + ' badFaults=' + st.badFaults.toString() + '\n');
    say('reset=' + mem.reset(client).toString() + '\n');
    mem.stats(client, st);
    say('after reset: used=' + st.used.toString() + ' memPages=' + st.memPages.toString() + '\n');
    return 0;
  }
}

export function main(): i32 {
  supervisorServe(new Sup(), 16);
  return 0;
}
