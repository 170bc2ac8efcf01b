// @nodeagent/node-status/errors: every error class this package throws. Off the root because
// `InvalidConfigError` is also a name at other packages' roots. The API-error predicates
// (`isNotFound`, `isAlreadyExists`, ...) are @nodeagent/informer/errors'.
// Thrown by computeCapacity for bad or negative reservations; the class lives in primitives.
export { InvalidQuantityError } from '@nodeagent/primitives';
export {
  InvalidConfigError,
  isInvalidConfigError,
  isMachineInfoError,
  MachineInfoError,
  NodeStatusError,
} from '../errors';
