import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { InvalidPodSpecError } from '../src/errors';
import { validatePod } from '../src/pod/validate-pod';
import { rejectedPodStatus } from '../src/status/generate-pod-status';
import { makePod } from './helpers/fixtures';

const fields = (pod: Pod) => validatePod(pod).map((error) => error.field);

describe('validatePod', () => {
  it('accepts a well-formed pod', () => {
    const pod = makePod({
      volumes: [{ name: 'data', emptyDir: {} }],
      initContainers: [
        { name: 'setup', image: 'busybox' },
        { name: 'proxy', image: 'busybox', restartPolicy: 'Always' },
      ],
      containers: [
        {
          name: 'app',
          image: 'busybox',
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          ports: [{ containerPort: 80, hostPort: 8080 }],
          env: [
            { name: 'A', value: '1' },
            { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
        },
      ],
    });
    expect(validatePod(pod)).toEqual([]);
  });

  it('reports a missing image with the field path', () => {
    const errors = validatePod(makePod({ containers: [{ name: 'app' }] }));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(InvalidPodSpecError);
    expect(errors[0]!.code).toBe('INVALID_POD_SPEC');
    expect(errors[0]!.field).toBe('spec.containers[0].image');
    expect(errors[0]!.message).toContain('is required');
  });

  it('reports duplicate container names across init and main containers', () => {
    const pod = makePod({
      initContainers: [{ name: 'app', image: 'busybox' }],
      containers: [
        { name: 'app', image: 'busybox' },
        { name: 'side', image: 'busybox' },
        { name: 'side', image: 'x' },
      ],
    });
    expect(fields(pod)).toEqual(['spec.containers[0].name', 'spec.containers[2].name']);
    expect(validatePod(pod)[0]!.value).toBe('app');
  });

  it('reports volume mounts that reference no volume', () => {
    const pod = makePod({
      volumes: [{ name: 'data', emptyDir: {} }],
      containers: [{ name: 'app', image: 'busybox', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }],
    });
    const errors = validatePod(pod);
    expect(errors.map((e) => [e.field, e.value])).toEqual([
      ['spec.containers[0].volumeMounts[0].name', 'cache'],
    ]);
  });

  it('reports volumes without exactly one source, bad ports, bad restart policies', () => {
    const pod = makePod({
      restartPolicy: 'Sometimes' as never,
      volumes: [{ name: 'a' }, { name: 'b', emptyDir: {}, hostPath: { path: '/tmp' } }],
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ports: [{ containerPort: 0 }],
          restartPolicy: 'Sometimes' as never,
          restartPolicyRules: [{ action: 'Reboot', exitCodes: { operator: 'Between', values: [1] } }],
        },
      ],
    });
    expect(fields(pod)).toEqual([
      'spec.restartPolicy',
      'spec.volumes[0]',
      'spec.volumes[1]',
      'spec.containers[0].restartPolicy',
      'spec.containers[0].restartPolicyRules[0].action',
      'spec.containers[0].restartPolicyRules[0].exitCodes.operator',
      'spec.containers[0].ports[0].containerPort',
    ]);
  });

  it('accepts the v1.36 container restartPolicy and rules (ContainerRestartRules, RestartAllContainers)', () => {
    const pod = makePod({
      restartPolicy: 'Never',
      initContainers: [{ name: 'setup', image: 'busybox', restartPolicy: 'OnFailure' }],
      containers: [
        {
          name: 'c',
          image: 'busybox',
          restartPolicy: 'Never',
          restartPolicyRules: [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }],
        },
        {
          name: 'trigger',
          image: 'busybox',
          restartPolicy: 'Always',
          restartPolicyRules: [
            { action: 'RestartAllContainers', exitCodes: { operator: 'NotIn', values: [0] } },
          ],
        },
      ],
    });
    expect(validatePod(pod)).toEqual([]);
  });

  it('never throws on garbage input', () => {
    const garbage = [
      {},
      { metadata: {} },
      { metadata: { name: 'x' }, spec: {} },
      { metadata: { name: 'x' }, spec: { containers: [null] } },
      {
        metadata: { name: 'x' },
        spec: { containers: [{ name: 'a', image: 'b', volumeMounts: [null], env: [null] }] },
      },
    ];
    for (const pod of garbage) {
      const errors = validatePod(pod as unknown as Pod);
      expect(errors.length).toBeGreaterThan(0);
    }
  });

  it('turns into a Failed pod status with a reason, not an exception', () => {
    const pod = makePod({ containers: [{ name: 'app' }] });
    const errors = validatePod(pod);
    const status = rejectedPodStatus(
      pod,
      'InvalidPodSpec',
      errors.map((e) => e.message).join('; '),
      Date.UTC(2025, 0, 1),
    );
    expect(status.phase).toBe('Failed');
    expect(status.reason).toBe('InvalidPodSpec');
    expect(status.message).toContain('spec.containers[0].image');
    expect(status.startTime).toBe('2025-01-01T00:00:00Z');
  });
});
