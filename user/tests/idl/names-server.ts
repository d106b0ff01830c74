// IDL pair test: a tiny name service (user/idl/names.json) on slot 17 that answers a lookup of
// "console" with the console endpoint it holds in slot 18 (a capability in the reply).
import { NamesServer, NamesLookupResult, namesServe, NAMES_NO_SUCH_SERVICE } from '../../lib/gen/names';

class Names extends NamesServer {
  lookup(badge: u32, name: Uint8Array, out: NamesLookupResult): i32 {
    if (String.UTF8.decode(name.buffer) != 'console') return NAMES_NO_SUCH_SERVICE;
    out.registered = 1;
    out.endpoint = 18;
    return 0;
  }
}

export function main(): i32 {
  namesServe(new Names(), 17);
  return 0;
}
