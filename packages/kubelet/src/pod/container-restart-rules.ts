import type { Container, ContainerRestartRule, Pod } from '../api/pod-types';

/**
 * The first of the container's restartPolicyRules whose exitCodes match `exitCode` (upstream
 * findMatchingContainerRestartRule): `In` matches a listed code, `NotIn` any other; a rule
 * without exitCodes or with another operator never matches.
 */
export function matchingRestartRule(
  container: Container,
  exitCode: number,
): ContainerRestartRule | undefined {
  return (container.restartPolicyRules ?? []).find((rule) => {
    if (!rule.exitCodes) return false;
    const listed = (rule.exitCodes.values ?? []).includes(exitCode);
    if (rule.exitCodes.operator === 'In') return listed;
    if (rule.exitCodes.operator === 'NotIn') return !listed;
    return false;
  });
}

/**
 * Upstream ContainerShouldRestart (v1.36, ContainerRestartRules beta on): with a container-level
 * restartPolicy, a matching rule with action Restart restarts it; otherwise that policy decides
 * (Always; OnFailure on a non-zero exit; Never). Without one the pod's restartPolicy decides,
 * Always when unset. Rules count only beside a container restartPolicy, as upstream.
 */
export function containerShouldRestart(container: Container, pod: Pod, exitCode: number): boolean {
  if (container.restartPolicy !== undefined) {
    if (matchingRestartRule(container, exitCode)?.action === 'Restart') return true;
    if (container.restartPolicy === 'Always') return true;
    if (container.restartPolicy === 'OnFailure') return exitCode !== 0;
    if (container.restartPolicy === 'Never') return false;
  }
  const podPolicy = pod.spec.restartPolicy ?? 'Always';
  if (podPolicy === 'OnFailure') return exitCode !== 0;
  return podPolicy !== 'Never';
}

/**
 * Upstream IsContainerRestartable: whether the container may ever be restarted (a Restart rule,
 * or a container or pod policy other than Never).
 */
export function isContainerRestartable(container: Container, pod: Pod): boolean {
  if (container.restartPolicy !== undefined)
    return (
      (container.restartPolicyRules ?? []).some((rule) => rule.action === 'Restart') ||
      container.restartPolicy !== 'Never'
    );
  return (pod.spec.restartPolicy ?? 'Always') !== 'Never';
}
