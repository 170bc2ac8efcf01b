import type { KubeletConfiguration } from './configuration-fields';
import { featureGateEnabled } from './feature-gate-rules';

/** Upstream's MaxContainerBackOff (300 s) as a v1beta1 duration prints it. */
const maxContainerBackOff = '5m0s';

/**
 * The two defaults upstream v1.36's SetDefaults_KubeletConfiguration sets only while a feature
 * gate is on (both gates are beta and on by default), so the effective configuration (/configz)
 * shows them as upstream's does: crashLoopBackOff.maxContainerRestartPeriod 5m0s with
 * KubeletCrashLoopBackOffMax, imagePullCredentialsVerificationPolicy NeverVerifyPreloadedImages
 * with KubeletEnsureSecretPulledImages. A value given is kept; with a gate off nothing is set.
 */
export function applyFeatureGatedDefaults(config: KubeletConfiguration): void {
  const on = (gate: string) => featureGateEnabled(config.featureGates, gate);
  if (on('KubeletCrashLoopBackOffMax') && config.crashLoopBackOff.maxContainerRestartPeriod === undefined)
    config.crashLoopBackOff = { ...config.crashLoopBackOff, maxContainerRestartPeriod: maxContainerBackOff };
  if (on('KubeletEnsureSecretPulledImages') && config.imagePullCredentialsVerificationPolicy === '')
    config.imagePullCredentialsVerificationPolicy = 'NeverVerifyPreloadedImages';
}
