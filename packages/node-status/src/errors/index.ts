// @nodeagent/node-status/errors: every error class this package throws, and the helpers that read
// an API server error's reason and status code. Off the root because `isNotFound`,
// `isAlreadyExists` and `InvalidConfigError` are also names of other packages' roots.
// Thrown by computeCapacity for bad or negative reservations; the class lives in primitives.
export { InvalidQuantityError } from '@nodeagent/primitives';
export { apiReason, apiStatusCode, isAlreadyExists, isConflict, isNotFound } from '../api-errors';
export { InvalidConfigError, MachineInfoError, NodeStatusError } from '../errors';
