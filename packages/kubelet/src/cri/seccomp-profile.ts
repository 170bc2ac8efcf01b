import { join } from 'node:path';
import {
  type MessageInput,
  type SecurityProfile,
  SecurityProfile_ProfileType,
} from '@nodeagent/cri-client/types';
import type { Container, Pod, SeccompProfile } from '../api/pod-types';
import { SecurityContextError } from './security-context-error';

/**
 * Node settings that decide a container's seccomp profile: where Localhost profiles live and whether RuntimeDefault
 * is the default.
 */
export interface SeccompOptions {
  /** Where Localhost profiles live: upstream `<root-dir>/seccomp`. */
  profileRoot: string;
  /** KubeletConfiguration.seccompDefault: RuntimeDefault instead of Unconfined when nothing is set. */
  seccompDefault: boolean;
}

const runtimeDefault = { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: '' };
const unconfined = { profileType: SecurityProfile_ProfileType.Unconfined, localhostRef: '' };

/** Upstream fieldSeccompProfile: one seccompProfile field → CRI SecurityProfile. */
function fieldSeccompProfile(
  field: string,
  profile: SeccompProfile,
  profileRoot: string,
): MessageInput<SecurityProfile> {
  if (profile.type === 'RuntimeDefault') return runtimeDefault;
  if (profile.type === 'Localhost') {
    if (!profile.localhostProfile) {
      throw new SecurityContextError(
        `${field}.localhostProfile`,
        profile.localhostProfile,
        'localhostProfile must be set if seccompProfile type is Localhost.',
      );
    }
    // The runtime reads the file; a missing one fails CreateContainer with the runtime's message.
    return {
      profileType: SecurityProfile_ProfileType.Localhost,
      localhostRef: join(profileRoot, profile.localhostProfile),
    };
  }
  return unconfined;
}

/**
 * Upstream getSeccompProfile: the container's seccompProfile, else the pod's, else RuntimeDefault
 * with seccompDefault and Unconfined without.
 */
export function containerSeccompProfile(
  pod: Pod,
  container: Container,
  options: SeccompOptions,
): MessageInput<SecurityProfile> {
  const fromContainer = container.securityContext?.seccompProfile;
  if (fromContainer) {
    return fieldSeccompProfile('securityContext.seccompProfile', fromContainer, options.profileRoot);
  }
  const fromPod = pod.spec.securityContext?.seccompProfile;
  if (fromPod)
    return fieldSeccompProfile('spec.securityContext.seccompProfile', fromPod, options.profileRoot);
  return options.seccompDefault ? runtimeDefault : unconfined;
}

/**
 * The sandbox always runs RuntimeDefault (upstream generatePodSandboxLinuxConfig, issue 84623): the
 * pause process needs no more, and it lets pods choose stricter profiles for their containers.
 */
export function sandboxSeccompProfile(): MessageInput<SecurityProfile> {
  return runtimeDefault;
}
