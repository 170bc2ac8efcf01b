// Predicates over a failed API call, in the spirit of apimachinery's errors.IsNotFound & co. They
// read only `code` and `body`, the shape ApiRequestError shares with client-node's ApiException,
// so they work on errors from either client.

/** HTTP status of an API call's error (client-node's ApiException.code), or undefined for network errors. */
export function apiStatusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The `reason` of a metav1.Status error body (AlreadyExists, Conflict, NotFound, ...). */
export function apiReason(err: unknown): string | undefined {
  let body = (err as { body?: unknown })?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** Whether a failed call was answered 404 (from ApiRequestError or client-node's ApiException). */
export const isNotFound = (err: unknown) => apiStatusCode(err) === 404;
/** Whether a failed call was a 409 other than AlreadyExists: a stale resourceVersion. */
export const isConflict = (err: unknown) => apiStatusCode(err) === 409 && apiReason(err) !== 'AlreadyExists';
/** Whether a create failed because the object exists (409 AlreadyExists). */
export const isAlreadyExists = (err: unknown) =>
  apiStatusCode(err) === 409 && (apiReason(err) === 'AlreadyExists' || apiReason(err) === undefined);

/** A short text for logs: `HTTP 409 Conflict` for an API failure, the message for any other error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = apiStatusCode(err);
    return code === undefined ? err.message : `HTTP ${code} ${apiReason(err) ?? ''}`.trim();
  }
  return String(err);
}
