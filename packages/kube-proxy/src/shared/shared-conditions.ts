import type { V1EndpointSlice } from '@kubernetes/client-node';
import type { Wire } from '@nodeagent/primitives';

/** An EndpointSlice endpoint's conditions as decoded. */
type Conditions = NonNullable<Wire<V1EndpointSlice>['endpoints'][number]['conditions']>;

// Every condition is unset, true or false: 27 combinations, one frozen object each, made on
// first use. A watch-list stream's slices are all held until its end bookmark (the informer's
// temporary store), so at 1M endpoints one conditions object per endpoint was ~48 MB of the
// start-up peak (issue #54).
const shared = new Map<number, Conditions>();

const code = (v: boolean | undefined): number => (v === undefined ? 0 : v ? 1 : 2);

const isFlag = (v: unknown): v is boolean | undefined => v === undefined || typeof v === 'boolean';

/**
 * The one shared, frozen object equal to `c`, or `c` itself when it holds anything but the
 * three conditions as booleans (a field added to the API later, a null: kept as sent).
 */
export function sharedConditions(c: Conditions): Conditions {
  for (const k in c) if (k !== 'ready' && k !== 'serving' && k !== 'terminating') return c;
  const { ready, serving, terminating } = c;
  if (!isFlag(ready) || !isFlag(serving) || !isFlag(terminating)) return c;
  const key = code(ready) * 9 + code(serving) * 3 + code(terminating);
  let s = shared.get(key);
  if (s === undefined) {
    const o: { ready?: boolean; serving?: boolean; terminating?: boolean } = {};
    if (ready !== undefined) o.ready = ready;
    if (serving !== undefined) o.serving = serving;
    if (terminating !== undefined) o.terminating = terminating;
    s = Object.freeze(o);
    shared.set(key, s);
  }
  return s;
}
