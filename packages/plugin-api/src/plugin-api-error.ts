import { CodedError, errorPredicate } from '@nodeagent/primitives';

/** What went wrong: a name that is no service or message of these APIs, a message that cannot be encoded, a socket path or timeout a connection cannot use. */
export type PluginApiErrorCode =
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_MESSAGE_TYPE'
  | 'INVALID_MESSAGE'
  | 'INVALID_ENDPOINT'
  | 'INVALID_TIMEOUT';

/**
 * A node-plugin API used wrongly: `code` says how, `typeName` is the service or message type's
 * full name (`k8s.io.kubelet.pkg.apis.dra.v1.Claim`), the socket path or the method's path. A
 * call that fails on the wire is a PluginCallError instead; this is for what never reaches it.
 */
export class PluginApiError extends CodedError {
  declare readonly code: PluginApiErrorCode;
  /** The service's or message type's full name. */
  readonly typeName: string;

  constructor(code: PluginApiErrorCode, typeName: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.typeName = typeName;
  }
}

const isAnyPluginApiError = errorPredicate(PluginApiError);

/** Whether `e` is a PluginApiError (from either build), with the given code if one is named. */
export function isPluginApiError(e: unknown, code?: PluginApiErrorCode): e is PluginApiError {
  return isAnyPluginApiError(e) && (code === undefined || e.code === code);
}
