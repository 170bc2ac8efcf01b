export type { FeatureGateSpec, FeatureStage } from './feature-gate-spec';
export { HONOURED_FEATURE_GATES, unimplementedGateChanges } from './honoured-feature-gates';
export {
  type FeatureGateWarning,
  InvalidFeatureGateError,
  isInvalidFeatureGateError,
  type ResolvedFeatureGates,
  resolveFeatureGates,
} from './resolve-feature-gates';
export { FEATURE_GATES_V1_36 } from './table-v1-36';
