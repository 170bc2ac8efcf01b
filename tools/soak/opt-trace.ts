/**
 * `--trace-opt`: what V8 compiles and throws away in an agent, from its `--trace-opt` and
 * `--trace-deopt` lines on the agent's stdout. A function compiled again and again is a
 * recompilation loop: its optimised code is dropped (a deoptimisation, or code marked because a
 * shape, field type or pretenuring decision it relied on changed) and the function is optimised
 * anew, each time a new code object and compiler work. Growth of compiled code that stops with the
 * program's size is V8 warming up; a loop never stops.
 */
import { LineSplitter } from '../../apps/kube-proxy/bench/output-lines';

/**
 * A preload (`node --require`) that turns both traces on: NODE_OPTIONS refuses V8 flags, and V8
 * reads its trace flags at run time, so setting them first thing traces every compilation.
 */
export const OPT_TRACE_PRELOAD =
  "const v8 = require('node:v8');\nv8.setFlagsFromString('--trace-opt');\nv8.setFlagsFromString('--trace-deopt');\n";

/** What the traces reported so far. */
export interface OptTally {
  /** Optimised compilations completed, by tier as V8 names it (MAGLEV, TURBOFAN_JS). */
  compiled: Record<string, number>;
  /** Optimised frames V8 deoptimised (its `bailout` lines, eager and lazy). */
  deoptimised: number;
  /** Optimised code marked for deoptimisation because something it relied on changed, by reason. */
  invalidated: Record<string, number>;
}

/** A function V8 compiled more than once, by the name V8 gives it (empty for an anonymous one). */
export interface Recompiled {
  fn: string;
  compilations: number;
}

// `[completed compiling 0x… <JSFunction spamKey (sfi = 0x…)> (target MAGLEV) - took …]`
const COMPILED = /^\[completed compiling \S+ <JSFunction ?(.*?) \(sfi = (\w+)\)> \(target (\w+)\)/;
// `[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing …`
const BAILOUT = /^\[bailout \(kind: /;
// `[marking dependent code 0x… <Code MAGLEV> (0x… <SharedFunctionInfo spamKey>) (opt id 9) for deoptimization, reason: dependent field type changed]`
const INVALIDATED = /^\[marking dependent code .* for deoptimization, reason: (.*)\]$/;

/** Adds up `--trace-opt` and `--trace-deopt` lines as they arrive (chunks may split lines). */
export class OptTraceTally {
  private readonly lines = new LineSplitter();
  private readonly tally: OptTally = { compiled: {}, deoptimised: 0, invalidated: {} };
  /** Compilations per function, keyed by its SharedFunctionInfo (one per function in the source). */
  private readonly byFunction = new Map<string, Recompiled>();

  push(chunk: string): void {
    for (const line of this.lines.push(chunk)) this.line(line);
  }

  /** A copy of the totals so far. */
  snapshot(): OptTally {
    return {
      compiled: { ...this.tally.compiled },
      deoptimised: this.tally.deoptimised,
      invalidated: { ...this.tally.invalidated },
    };
  }

  /** The functions compiled at least `times` times, the most compiled first. */
  recompiled(times: number): Recompiled[] {
    return [...this.byFunction.values()]
      .filter((f) => f.compilations >= times)
      .sort((a, b) => b.compilations - a.compilations)
      .map((f) => ({ ...f }));
  }

  private line(line: string): void {
    const compiled = COMPILED.exec(line);
    if (compiled) {
      const [, fn = '', sfi = '', tier = ''] = compiled;
      this.tally.compiled[tier] = (this.tally.compiled[tier] ?? 0) + 1;
      const f = this.byFunction.get(sfi) ?? { fn, compilations: 0 };
      f.compilations++;
      this.byFunction.set(sfi, f);
      return;
    }
    if (BAILOUT.test(line)) {
      this.tally.deoptimised++;
      return;
    }
    const reason = INVALIDATED.exec(line)?.[1];
    if (reason) this.tally.invalidated[reason] = (this.tally.invalidated[reason] ?? 0) + 1;
  }
}

/** The counts between two snapshots: what one minute added. */
export function optTallySince(now: OptTally, before: OptTally | undefined): OptTally {
  const since = (a: Record<string, number>, b: Record<string, number> | undefined) =>
    Object.fromEntries(Object.entries(a).map(([k, n]) => [k, n - (b?.[k] ?? 0)]));
  return {
    compiled: since(now.compiled, before?.compiled),
    deoptimised: now.deoptimised - (before?.deoptimised ?? 0),
    invalidated: since(now.invalidated, before?.invalidated),
  };
}
