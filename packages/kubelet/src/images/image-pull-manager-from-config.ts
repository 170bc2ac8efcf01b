import type { Clock } from '@nodeagent/primitives';
import type { Registry } from 'prom-client';
import type { KubeletConfiguration } from '../config/kubelet-configuration';
import type { KubeletLogger } from '../kubelet-logger';
import { ImagePullManager, type PresentImage } from './image-pull-manager';
import { imagePullVerificationPolicy } from './image-pull-verification-policy';

/**
 * The kubelet's verified-pull manager as upstream builds it: with the KubeletEnsureSecretPulledImages
 * feature gate (beta, on by default since v1.35) a manager over <root-dir>/image_manager that
 * enforces imagePullCredentialsVerificationPolicy ("" meaning the v1beta1 default,
 * NeverVerifyPreloadedImages) with preloadedImagesVerificationAllowlist; without it, none — a
 * present image is then used by any pod, as before the feature.
 */
export async function imagePullManagerFromConfig(
  config: Pick<
    KubeletConfiguration,
    'featureGates' | 'imagePullCredentialsVerificationPolicy' | 'preloadedImagesVerificationAllowlist'
  >,
  deps: {
    rootDir: string;
    listImages: () => Promise<readonly PresentImage[]>;
    clock: Clock;
    logger?: KubeletLogger;
    registry?: Registry;
  },
): Promise<ImagePullManager | undefined> {
  if (config.featureGates.KubeletEnsureSecretPulledImages === false) return undefined;
  return ImagePullManager.create({
    rootDir: deps.rootDir,
    policy: imagePullVerificationPolicy(
      config.imagePullCredentialsVerificationPolicy,
      config.preloadedImagesVerificationAllowlist,
    ),
    listImages: deps.listImages,
    clock: deps.clock,
    logger: deps.logger,
    registry: deps.registry,
  });
}
