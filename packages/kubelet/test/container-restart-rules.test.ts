import { describe, expect, it } from 'vitest';
import type { Container } from '../src/api/pod-types';
import {
  containerShouldRestart,
  isContainerRestartable,
  matchingRestartRule,
} from '../src/pod/container-restart-rules';
import { makePod } from './helpers/fixtures';

// The fixture's restart-rules pod: restartPolicy Never, its container restarted on exit 42.
const ruled: Container = {
  name: 'c',
  image: 'busybox',
  restartPolicy: 'Never',
  restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
};

describe('container restart rules (upstream ContainerShouldRestart, v1.36)', () => {
  const never = makePod({ restartPolicy: 'Never', containers: [ruled] });

  it('restarts on a matching Restart rule and otherwise follows the container policy', () => {
    expect(containerShouldRestart(ruled, never, 42)).toBe(true);
    expect(containerShouldRestart(ruled, never, 1)).toBe(false);
    expect(containerShouldRestart(ruled, never, 0)).toBe(false);
    const notIn: Container = {
      ...ruled,
      restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'NotIn', values: [0, 3] } }],
    };
    expect(containerShouldRestart(notIn, never, 7)).toBe(true);
    expect(containerShouldRestart(notIn, never, 3)).toBe(false);
  });

  it('takes the first matching rule, in order', () => {
    const container: Container = {
      ...ruled,
      restartPolicy: 'Always',
      restartPolicyRules: [
        { action: 'Unknown', exitCodes: { operator: 'In', values: [5] } },
        { action: 'Restart', exitCodes: { operator: 'In', values: [5] } },
      ],
    };
    expect(matchingRestartRule(container, 5)?.action).toBe('Unknown');
    // An action it does not know falls back to the container's policy (Always here).
    expect(containerShouldRestart(container, never, 5)).toBe(true);
    expect(containerShouldRestart({ ...container, restartPolicy: 'Never' }, never, 5)).toBe(false);
  });

  it("uses the container's policy over the pod's, and the pod's when it has none", () => {
    const plain: Container = { name: 'c', image: 'busybox' };
    const always = makePod({ restartPolicy: 'Always', containers: [plain] });
    expect(containerShouldRestart({ ...plain, restartPolicy: 'OnFailure' }, always, 0)).toBe(false);
    expect(containerShouldRestart({ ...plain, restartPolicy: 'OnFailure' }, always, 2)).toBe(true);
    expect(containerShouldRestart({ ...plain, restartPolicy: 'Always' }, never, 0)).toBe(true);
    expect(containerShouldRestart(plain, never, 1)).toBe(false);
    expect(containerShouldRestart(plain, makePod({ restartPolicy: 'OnFailure' }), 0)).toBe(false);
    expect(containerShouldRestart(plain, makePod({}), 0)).toBe(true);
    // Rules without a container restartPolicy do not count (upstream validation requires one).
    const rulesOnly: Container = { ...plain, restartPolicyRules: ruled.restartPolicyRules };
    expect(containerShouldRestart(rulesOnly, never, 42)).toBe(false);
  });

  it('tells whether a container may ever restart', () => {
    expect(isContainerRestartable(ruled, never)).toBe(true);
    expect(isContainerRestartable({ ...ruled, restartPolicyRules: [] }, never)).toBe(false);
    expect(isContainerRestartable({ name: 'c', image: 'b' }, never)).toBe(false);
    expect(isContainerRestartable({ name: 'c', image: 'b', restartPolicy: 'OnFailure' }, never)).toBe(true);
  });
});
