import { existsSync, readFileSync } from 'node:fs';
import {
  type MessageInput,
  type SecurityProfile,
  SecurityProfile_ProfileType,
} from '@nodeagent/cri-client/types';
import type { AppArmorProfile, Container, Pod } from '../api/pod-types';
import { SecurityContextError } from './security-context-error';

/** The deprecated per-container annotation (upstream DeprecatedAppArmorBetaContainerAnnotationKeyPrefix). */
export const appArmorAnnotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';
/** Deprecated annotation values (upstream DeprecatedAppArmorBeta*). */
export const appArmorRuntimeDefault = 'runtime/default';
export const appArmorUnconfined = 'unconfined';
export const appArmorLocalhostPrefix = 'localhost/';
/** Upstream AppArmorNotAdmittedReason. */
export const appArmorNotAdmittedReason = 'AppArmor';

/** What runc's apparmor.IsEnabled (and so upstream) reads: AppArmor's securityfs and its switch. */
export const appArmorSecurityfsPath = '/sys/kernel/security/apparmor';
export const appArmorEnabledPath = '/sys/module/apparmor/parameters/enabled';

/** Upstream podutil.AllContainers: init, regular and ephemeral containers. */
export function allContainers(pod: Pod): Container[] {
  return [
    ...(pod.spec.initContainers ?? []),
    ...pod.spec.containers,
    ...(pod.spec.ephemeralContainers ?? []),
  ];
}

/** Upstream getProfileFromPodAnnotations: the deprecated annotation → a profile, or none. */
function profileFromAnnotation(pod: Pod, containerName: string): AppArmorProfile | undefined {
  const value = pod.metadata.annotations?.[appArmorAnnotationPrefix + containerName];
  if (value === undefined) return undefined;
  if (value === appArmorRuntimeDefault) return { type: 'RuntimeDefault' };
  if (value === appArmorUnconfined) return { type: 'Unconfined' };
  if (value.startsWith(appArmorLocalhostPrefix)) {
    return { type: 'Localhost', localhostProfile: value.slice(appArmorLocalhostPrefix.length) };
  }
  return undefined; // not a valid annotation value: upstream ignores it too
}

/**
 * Upstream apparmor.GetProfile: the container's field, then the deprecated annotation (static
 * pods may not have had it copied into the fields), then the pod's field.
 */
export function effectiveAppArmorProfile(pod: Pod, container: Container): AppArmorProfile | undefined {
  return (
    container.securityContext?.appArmorProfile ??
    profileFromAnnotation(pod, container.name) ??
    pod.spec.securityContext?.appArmorProfile
  );
}

/**
 * Upstream getAppArmorProfile: the CRI `apparmor` SecurityProfile plus the deprecated
 * `apparmorProfile` string older runtimes read. No profile leaves both empty (runtime default).
 */
export function containerAppArmor(
  pod: Pod,
  container: Container,
): { apparmor: MessageInput<SecurityProfile> | null; apparmorProfile: string } {
  const profile = effectiveAppArmorProfile(pod, container);
  if (!profile) return { apparmor: null, apparmorProfile: '' };
  switch (profile.type) {
    case 'RuntimeDefault':
      return {
        apparmor: { profileType: SecurityProfile_ProfileType.RuntimeDefault, localhostRef: '' },
        apparmorProfile: appArmorRuntimeDefault,
      };
    case 'Unconfined':
      return {
        apparmor: { profileType: SecurityProfile_ProfileType.Unconfined, localhostRef: '' },
        apparmorProfile: appArmorUnconfined,
      };
    case 'Localhost':
      if (profile.localhostProfile === undefined) {
        throw new SecurityContextError(
          'securityContext.appArmorProfile.localhostProfile',
          undefined,
          'missing localhost apparmor profile name',
        );
      }
      return {
        apparmor: {
          profileType: SecurityProfile_ProfileType.Localhost,
          localhostRef: profile.localhostProfile,
        },
        apparmorProfile: appArmorLocalhostPrefix + profile.localhostProfile,
      };
    default:
      throw new SecurityContextError(
        'securityContext.appArmorProfile.type',
        (profile as AppArmorProfile).type,
        `unknown apparmor profile type: "${(profile as AppArmorProfile).type}"`,
      );
  }
}

/** Upstream isRequired: any profile other than Unconfined, in a field or an annotation. */
export function appArmorRequired(pod: Pod): boolean {
  const confined = (profile: AppArmorProfile | undefined) =>
    profile !== undefined && profile.type !== 'Unconfined';
  if (confined(pod.spec.securityContext?.appArmorProfile)) return true;
  if (allContainers(pod).some((c) => confined(c.securityContext?.appArmorProfile))) return true;
  return Object.entries(pod.metadata.annotations ?? {}).some(
    ([key, value]) => key.startsWith(appArmorAnnotationPrefix) && value !== appArmorUnconfined,
  );
}

/**
 * Upstream validateHost, read once at start as upstream does: undefined when the kernel enforces
 * AppArmor, else why not. Like runc: AppArmor's securityfs must exist and the module parameter
 * must read "Y".
 */
export function appArmorHostError(
  enabledPath = appArmorEnabledPath,
  securityfsPath = appArmorSecurityfsPath,
): string | undefined {
  try {
    if (existsSync(securityfsPath) && readFileSync(enabledPath, 'utf8').startsWith('Y')) return undefined;
  } catch {
    // No AppArmor module at all.
  }
  return 'AppArmor is not enabled on the host';
}

/**
 * Upstream appArmorAdmitHandler (over validator.Validate): a pending pod that needs AppArmor on a
 * host without it, or names an empty Localhost profile, is rejected with reason AppArmor.
 * `hostError` is appArmorHostError()'s answer. Shaped as a PodAdmitResult.
 */
export function appArmorAdmission(
  pod: Pod,
  hostError: string | undefined,
): { admit: true } | { admit: false; reason: string; message: string } {
  if (!appArmorRequired(pod)) return { admit: true };
  const reject = (why: string) => ({
    admit: false as const,
    reason: appArmorNotAdmittedReason,
    message: `Cannot enforce AppArmor: ${why}`,
  });
  if (hostError !== undefined) return reject(hostError);
  for (const container of allContainers(pod)) {
    const profile = effectiveAppArmorProfile(pod, container);
    if (profile?.type === 'Localhost' && !profile.localhostProfile?.trim()) {
      return reject(`invalid empty AppArmor profile name: ${JSON.stringify(profile)}`);
    }
  }
  return { admit: true };
}
