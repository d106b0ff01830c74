// Boot test client of the name service: looks up an allowed service, a service it may not use,
// an unknown one, tries to register a service it does not provide, and reports on the debug
// console what came back, with what the received capability is (CapIdentify).
import { CompSlot, debugPrint, debugPrintInt, capIdentify, res } from "../../lib/l4";
import { lookup, register } from "../../lib/names";

export function main(): i32 {
  const slot = CompSlot.FirstFree + 4;
  const a = lookup("alpha", slot);
  const b = lookup("beta", slot + 1);
  const z = lookup("zeta", slot + 1);
  const r = register("alpha");
  capIdentify(CompSlot.Task, slot);
  const type = res(1);
  const rights = res(2);
  const badge = res(3);
  debugPrint("names-client: alpha=");
  debugPrintInt(a);
  debugPrint(" beta=");
  debugPrintInt(b);
  debugPrint(" zeta=");
  debugPrintInt(z);
  debugPrint(" register=");
  debugPrintInt(r);
  debugPrint(" type=");
  debugPrintInt(type);
  debugPrint(" rights=");
  debugPrintInt(rights);
  debugPrint(" badge=");
  debugPrintInt(badge);
  debugPrint("\n");
  return 0;
}
