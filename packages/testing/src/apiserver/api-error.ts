/** A Kubernetes `Status` failure object as the API server sends it on the wire. */
export interface StatusCause {
  reason: string;
  /** Omitted, as upstream omits it, on causes that carry only a type (admission's NodeCapacity). */
  message?: string;
  field?: string;
}

/** A metav1 Status, as the API server answers a failed request. */
export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/**
 * An error the fake API server answers with. `code` is the HTTP status, `reason` the
 * Kubernetes StatusReason (NotFound, Conflict, Invalid, ...), so clients can branch on either.
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusObject['details'],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** This error as the Status object the server sends. */
  toStatus(): StatusObject {
    const status: StatusObject = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    return status;
  }
}

function qualified(plural: string, group: string): string {
  return group ? `${plural}.${group}` : plural;
}

export function notFound(plural: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(plural, group)} "${name}" not found`, {
    name,
    group,
    kind: plural,
  });
}

export function alreadyExists(plural: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(plural, group)} "${name}" already exists`, {
    name,
    group,
    kind: plural,
  });
}

export function conflict(plural: string, group: string, name: string): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: plural },
  );
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/**
 * 422 Invalid, naming each offending field the way the real server's validation does: one error
 * is quoted as it is, several are listed in brackets (an aggregate's text).
 */
export function invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
  const texts = causes.map((c) => `${c.field}: ${c.message}`);
  const summary = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, {
    name,
    group,
    kind,
    causes,
  });
}

/**
 * 403 Forbidden as admission answers it: `<resource> "<name>" is forbidden: <why>`, with the
 * cause types a plugin attaches (PodResizeValidator's NodeCapacity, UnsupportedPlatform).
 */
export function forbidden(
  plural: string,
  group: string,
  name: string,
  why: string,
  causeTypes: string[] = [],
): ApiError {
  return new ApiError(403, 'Forbidden', `${qualified(plural, group)} "${name}" is forbidden: ${why}`, {
    name,
    ...(group ? { group } : {}),
    kind: plural,
    ...(causeTypes.length > 0 ? { causes: causeTypes.map((reason) => ({ reason })) } : {}),
  });
}

export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function methodNotAllowed(message: string): ApiError {
  return new ApiError(405, 'MethodNotAllowed', message);
}
