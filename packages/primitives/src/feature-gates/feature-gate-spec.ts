/** A gate's maturity (component-base featuregate.prerelease). */
export type FeatureStage = 'ALPHA' | 'BETA' | 'GA' | 'DEPRECATED';

/** One feature gate as it stands at one Kubernetes version. */
export interface FeatureGateSpec {
  name: string;
  /** Its value when nobody sets it. */
  default: boolean;
  stage: FeatureStage;
  /** Setting it to anything but its default is refused. */
  lockToDefault: boolean;
  /** Gates that must be on while this one is (component-base AddDependencies). */
  dependsOn: readonly string[];
}
