// @nodeagent/informer/errors: the predicates and readers for a failed API call. Off the root because
// `isNotFound` and `isAlreadyExists` are also names at @nodeagent/cri-client's root (gRPC statuses).
export {
  apiReason,
  apiStatusCode,
  errorMessage,
  isAlreadyExists,
  isConflict,
  isNotFound,
} from '../api-errors';
export { ApiRequestError } from '../api-request';
export { ApiStatusError, InvalidProxyError } from '../errors';
