// Kernel invariants, checked by the hostile tests after every batch of random system calls.
// Returns a list of violations (empty when all hold).
//
//  - Derivation tree: every capability in a slot knows its slot; parent/child/sibling links
//    agree; no cycles; every object's reference count equals the capabilities naming it
//    (slots plus kernel-held copies); no capability names a destroyed object.
//  - Mapping database: every node is in its task's map at its page; its PTE maps its page with
//    at most its rights; a derived node's parent is live, maps the same page, with at least its
//    rights; a root node's source frame capability is in a slot and covers the page. Every
//    valid leaf PTE of every task is a database node or a UTCB. Every L2 table lies in the
//    kernel pool (tasks made at boot) or below the watermark of its task's untyped.

import { PTE_V } from '../machine/sv32.ts';
import { ObjType } from '../abi/caps.ts';
import type { Kernel } from './kernel.ts';
import type { Cap } from './objects/cap.ts';
import type { Frame } from './objects/frame.ts';
import type { MapNode } from './vm.ts';

export function checkInvariants(k: Kernel): string[] {
  const bad: string[] = [];
  const seen = new Set<Cap>();
  const refs = new Map<object, number>();
  const count = (o: object): void => { refs.set(o, (refs.get(o) ?? 0) + 1); };
  for (const task of k.tasks) {
    if (!task.alive) bad.push(`task ${task.id} destroyed but listed`);
    task.cspace.forEach((c, slot) => {
      if (c === null) return;
      if (slot === 0) bad.push(`task ${task.id}: slot 0 used`);
      if (c.task !== task || c.slot !== slot) bad.push(`task ${task.id} slot ${slot}: capability thinks it is elsewhere`);
      if (!c.obj.alive) bad.push(`task ${task.id} slot ${slot}: names a destroyed object`);
      seen.add(c);
      count(c.obj);
      // Tree links.
      for (let ch = c.firstChild; ch !== null; ch = ch.nextSib) {
        if (ch.parent !== c) bad.push(`task ${task.id} slot ${slot}: child with another parent`);
        if (ch.nextSib !== null && ch.nextSib.prevSib !== ch) bad.push(`task ${task.id} slot ${slot}: sibling links broken`);
      }
      let depth = 0;
      for (let p = c.parent; p !== null; p = p.parent) {
        if (++depth > 100000) { bad.push(`task ${task.id} slot ${slot}: derivation cycle`); break; }
      }
      if (c.parent !== null) {
        let found = false;
        for (let s = c.parent.firstChild; s !== null; s = s.nextSib) if (s === c) found = true;
        if (!found) bad.push(`task ${task.id} slot ${slot}: not in its parent's child list`);
        if (c.parent.task === null) bad.push(`task ${task.id} slot ${slot}: parent not in any slot`);
      }
    });
  }
  // Kernel-held capabilities.
  for (const t of k.threads) {
    if (t.pager !== null) count(t.pager.obj);
    if (t.excHandler !== null) count(t.excHandler.obj);
  }
  for (const c of k.irqNtfnCaps.values()) count(c.obj);
  for (const [obj, n] of refs) {
    if ((obj as { refs: number }).refs !== n) bad.push(`object refs ${(obj as { refs: number }).refs} != capabilities ${n}`);
  }
  // Mapping database.
  for (const task of k.tasks) {
    for (const [vpn, node] of task.maps) checkNode(k, vpn, node, seen, bad);
    for (let i1 = 0; i1 < 1024; i1++) {
      const l2 = task.l2[i1];
      if (l2 === 0) continue;
      // Page-table accounting: boot tasks use the pool, the others their creator's untyped.
      const u = task.untyped;
      if (u === null ? !k.vm.pool.contains(l2) : (l2 < u.pa || l2 + 4096 > u.pa + u.watermark)) {
        bad.push(`task ${task.id}: L2 table 0x${l2.toString(16)} not charged where it should be`);
      }
      for (let i0 = 0; i0 < 1024; i0++) {
        const pte = k.board.dram.readU32(l2 + i0 * 4);
        if ((pte & PTE_V) === 0) continue;
        const vpn = (i1 << 10) | i0;
        const n = task.maps.get(vpn);
        const u = task.utcbs.get(vpn);
        if (n === undefined && u === undefined) bad.push(`task ${task.id} page 0x${(vpn << 12 >>> 0).toString(16)}: PTE without a mapping`);
        const pa = (pte >>> 10) * 4096;
        if (n !== undefined && n.pa !== pa) bad.push(`task ${task.id} page 0x${(vpn << 12 >>> 0).toString(16)}: PTE maps another page`);
        if (n !== undefined && (((pte >>> 1) & 7) & ~n.rights) !== 0) bad.push(`task ${task.id} page 0x${(vpn << 12 >>> 0).toString(16)}: PTE rights exceed the mapping's`);
      }
    }
  }
  return bad;
}

function checkNode(k: Kernel, vpn: number, n: MapNode, caps: Set<Cap>, bad: string[]): void {
  const where = `task ${n.task.id} page 0x${(vpn << 12 >>> 0).toString(16)}`;
  if (n.vpn !== vpn) bad.push(`${where}: node at the wrong page`);
  if (!n.task.alive) bad.push(`${where}: mapping in a destroyed task`);
  if (n.parent === null) {
    const src = n.source;
    if (src === null) { bad.push(`${where}: root mapping without a source (orphan)`); return; }
    if (!caps.has(src)) bad.push(`${where}: source capability is in no slot`);
    if (src.type !== ObjType.Frame && src.type !== ObjType.IoMem) bad.push(`${where}: source is not a frame`);
    const f = src.obj as Frame;
    if (n.pa < f.pa || n.pa >= f.pa + f.pages * 4096) bad.push(`${where}: page outside its source frame`);
    if ((n.rights & ~src.rights) !== 0) bad.push(`${where}: rights exceed the frame capability's`);
    if (src.maps === null || !src.maps.includes(n)) bad.push(`${where}: not listed by its source`);
  } else {
    const p = n.parent;
    if (p.task.maps.get(p.vpn) !== p) bad.push(`${where}: parent mapping is gone`);
    if (p.pa !== n.pa) bad.push(`${where}: parent maps another page`);
    if ((n.rights & ~p.rights) !== 0) bad.push(`${where}: rights exceed the parent's`);
  }
}
