// Register allocation for locals: each local gets one home for the whole function, a register
// when one is free, else an 8-byte frame slot. Locals are ranked by their number of uses, each
// weighted by 8^(loop nesting depth) (a static estimate of execution frequency), and the
// highest-ranked get registers.
//
//   - Functions that call nothing ("leaf") keep their parameters in the argument registers they
//     arrive in and draw the other homes from caller-saved registers first, so they need no
//     frame and no saves. At least MIN_TEMPS caller-saved registers stay for temporaries.
//   - Other functions give locals callee-saved registers (s1-s11, fs0-fs11): a call then needs
//     no save around it, and the prologue saves only the registers actually used.
// Two registers of each class are set aside as the canonical homes of the operand-stack values
// at depth 0 and 1 across blocks (codegen.ts).

import { F32, F64, I64, type FuncType, type Instr, type ValType } from './module.ts';
import { FP_ARGS, FP_CALLEE, FP_CALLER, INT_ARGS, INT_CALLEE, INT_CALLER } from './regs.ts';

export interface Home {
  /** Register (-1: frame slot); r2 is the high-word register of an i64. */
  r: number;
  r2: number;
  /** Frame offset from fp when r < 0 (assigned by codegen). */
  off: number;
}

export interface Allocation {
  homes: Home[];
  canonI: number[];
  canonF: number[];
  usedCalleeI: number[];
  usedCalleeF: number[];
  poolI: number[];
  poolF: number[];
  /** Declared locals that are read somewhere (they need zero-initialization). */
  read: Set<number>;
}

const MIN_TEMPS = 7;
const NCANON = 2;

export function allocateLocals(type: FuncType, localTypes: ValType[], code: Instr[], leaf: boolean): Allocation {
  const n = localTypes.length;
  const weight = new Float64Array(n);
  const read = new Set<number>();
  const loops: boolean[] = [];
  let depth = 0;
  for (const ins of code) {
    switch (ins.op) {
      case 0x02: case 0x04: loops.push(false); break;
      case 0x03: loops.push(true); depth++; break;
      case 0x0b: if (loops.pop()) depth--; break;
      case 0x20: read.add(ins.a); weight[ins.a] += 8 ** Math.min(depth, 6); break;
      case 0x21: case 0x22: weight[ins.a] += 8 ** Math.min(depth, 6); break;
    }
  }
  const homes: Home[] = localTypes.map(() => ({ r: -1, r2: -1, off: 0 }));
  const isF = (t: ValType): boolean => t === F32 || t === F64;

  // Candidate registers, in order of preference.
  let candI: number[];
  let candF: number[];
  const usedI = new Set<number>();
  const usedF = new Set<number>();
  // Canonical stack registers: the last callee-saved ones (saved only when used).
  const canonI = INT_CALLEE.slice(INT_CALLEE.length - NCANON);
  const canonF = FP_CALLEE.slice(FP_CALLEE.length - NCANON);
  const callerLeftI = (): number => INT_CALLER.filter((r) => !usedI.has(r)).length;
  const callerLeftF = (): number => FP_CALLER.filter((r) => !usedF.has(r)).length;
  if (leaf) {
    // Parameters stay in the registers they arrive in, most used first, while enough
    // caller-saved registers remain for temporaries.
    let ni = 0;
    let nf = 0;
    const arrival: { i: number; r: number; r2: number; f: boolean }[] = [];
    type.params.forEach((t, i) => {
      if (isF(t)) {
        if (nf < 8) arrival.push({ i, r: FP_ARGS[nf++], r2: -1, f: true });
      } else if (t === I64 ? ni < 7 : ni < 8) {
        const r = INT_ARGS[ni++];
        arrival.push({ i, r, r2: t === I64 ? INT_ARGS[ni++] : -1, f: false });
      }
    });
    arrival.sort((x, y) => weight[y.i] - weight[x.i] || x.i - y.i);
    for (const p of arrival) {
      if (weight[p.i] === 0) continue;
      if (p.f) {
        if (callerLeftF() <= MIN_TEMPS) continue;
        homes[p.i].r = p.r;
        usedF.add(p.r);
      } else {
        if (callerLeftI() - (p.r2 >= 0 ? 2 : 1) < MIN_TEMPS) continue;
        homes[p.i].r = p.r;
        homes[p.i].r2 = p.r2;
        usedI.add(p.r);
        if (p.r2 >= 0) usedI.add(p.r2);
      }
    }
    candI = [...INT_CALLER.filter((r) => !usedI.has(r)), ...INT_CALLEE.slice(0, INT_CALLEE.length - NCANON)];
    candF = [...FP_CALLER.filter((r) => !usedF.has(r)), ...FP_CALLEE.slice(0, FP_CALLEE.length - NCANON)];
  } else {
    candI = INT_CALLEE.slice(0, INT_CALLEE.length - NCANON);
    candF = FP_CALLEE.slice(0, FP_CALLEE.length - NCANON);
  }

  const order = [...Array(n).keys()].filter((i) => homes[i].r < 0 && weight[i] > 0).sort((x, y) => weight[y] - weight[x] || x - y);
  for (const i of order) {
    const t = localTypes[i];
    // In a function with calls, a callee-saved register costs a save and a restore.
    if (!leaf && weight[i] < 2) continue;
    if (isF(t)) {
      while (candF.length > 0) {
        const r = candF[0];
        if (FP_CALLER.includes(r) && callerLeftF() <= MIN_TEMPS) { candF.shift(); continue; }
        candF.shift();
        homes[i].r = r;
        usedF.add(r);
        break;
      }
    } else {
      const need = t === I64 ? 2 : 1;
      const got: number[] = [];
      while (candI.length > 0 && got.length < need) {
        const r = candI.shift()!;
        if (INT_CALLER.includes(r) && callerLeftI() <= MIN_TEMPS) continue;
        got.push(r);
        usedI.add(r);
      }
      if (got.length === need) {
        homes[i].r = got[0];
        homes[i].r2 = need === 2 ? got[1] : -1;
      } else {
        for (const r of got) { usedI.delete(r); candI.unshift(r); }
      }
    }
  }
  return {
    homes,
    canonI,
    canonF,
    usedCalleeI: [...usedI].filter((r) => INT_CALLEE.includes(r)),
    usedCalleeF: [...usedF].filter((r) => FP_CALLEE.includes(r)),
    poolI: INT_CALLER.filter((r) => !usedI.has(r)),
    poolF: FP_CALLER.filter((r) => !usedF.has(r)),
    read,
  };
}

export { I64 };
