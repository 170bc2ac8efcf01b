import { invalid, type StatusCause } from './api-error';
import { forbiddenCause, notSupportedCause } from './field-errors';

/** The one resourceVersionMatch a watch accepts. */
const NOT_OLDER_THAN = 'NotOlderThan';

/**
 * A boolean query parameter as apimachinery decodes one: absent is unset; "0" and "false" (any
 * case) are false; anything else, the empty string included, is true.
 */
function queryBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/**
 * A watch's `sendInitialEvents` (KEP-3157) as a v1.36 server reads it: the WatchList feature
 * (on by default since v1.34) defaults a watch from resourceVersion "" or "0" that names
 * neither option to `sendInitialEvents=true, resourceVersionMatch=NotOlderThan`
 * (SetListOptionsDefaults), then ValidateListOptions' watch rules apply; breaking them is a 422
 * on `ListOptions.meta.k8s.io ""` with one cause per rule, in upstream's order and words.
 * Undefined: a plain watch from a resourceVersion. With the feature gate off (`watchList`
 * false) nothing is defaulted and a watch that names `sendInitialEvents` is refused with
 * upstream's Forbidden cause, which is what makes client-go's reflector fall back to a LIST.
 */
export function watchSendInitialEvents(q: URLSearchParams, watchList = true): boolean | undefined {
  let send = queryBool(q, 'sendInitialEvents');
  let match = q.get('resourceVersionMatch') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  if (watchList && send === undefined && match === '' && (rv === '' || rv === '0')) {
    send = true;
    match = NOT_OLDER_THAN;
  }
  const field = 'resourceVersionMatch';
  const causes: StatusCause[] = [];
  if (send !== undefined && match !== NOT_OLDER_THAN)
    causes.push(
      forbiddenCause(field, `sendInitialEvents requires setting resourceVersionMatch to ${NOT_OLDER_THAN}`),
    );
  if (send !== undefined && !watchList)
    causes.push(
      forbiddenCause(
        'sendInitialEvents',
        'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
      ),
    );
  if (match !== '') {
    if (send === undefined)
      causes.push(
        forbiddenCause(
          field,
          'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        ),
      );
    if (match !== NOT_OLDER_THAN) causes.push(notSupportedCause(field, match, [NOT_OLDER_THAN]));
    if (q.get('continue'))
      causes.push(forbiddenCause(field, 'resourceVersionMatch is forbidden when continue is provided'));
  }
  if (causes.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', causes);
  return send;
}
