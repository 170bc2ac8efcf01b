import { describe, expect, it } from 'vitest';
import type { ConfigMap, Container, Secret } from '../src/api/pod-types';
import { expandVars } from '../src/env/expand-vars';
import { type ObjectSource, resolveEnv } from '../src/env/resolve-env';
import { CreateContainerConfigError } from '../src/errors';
import { makePod } from './helpers/fixtures';

function objects(configMaps: ConfigMap[] = [], secrets: Secret[] = []): ObjectSource {
  return {
    getConfigMap: async (namespace, name) =>
      configMaps.find((c) => c.metadata.name === name && (c.metadata.namespace ?? 'default') === namespace),
    getSecret: async (namespace, name) =>
      secrets.find((s) => s.metadata.name === name && (s.metadata.namespace ?? 'default') === namespace),
  };
}

const settings: ConfigMap = {
  metadata: { name: 'settings' },
  data: { mode: 'fast', 'bad key': 'x', level: '3' },
};
const creds: Secret = {
  metadata: { name: 'creds' },
  data: { password: Buffer.from('s3cret').toString('base64') },
};

describe('resolveEnv', () => {
  it('resolves fieldRef, resourceFieldRef, configMapKeyRef and secretKeyRef', async () => {
    const container: Container = {
      name: 'app',
      image: 'busybox',
      resources: { limits: { cpu: '1500m', memory: '256Mi' }, requests: { cpu: '250m' } },
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'TEAM', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'mode' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
      ],
    };
    const pod = makePod({ containers: [container], nodeName: 'node-a' }, { labels: { team: 'blue' } });
    const env = await resolveEnv(pod, container, {
      objects: objects([settings], [creds]),
      podIPs: ['10.0.0.7'],
      hostIPs: ['192.168.0.2'],
    });
    expect(Object.fromEntries(env.map((e) => [e.key, e.value]))).toEqual({
      POD_NAME: 'web',
      POD_NS: 'default',
      TEAM: 'blue',
      NODE: 'node-a',
      POD_IP: '10.0.0.7',
      HOST_IP: '192.168.0.2',
      CPU_LIMIT: '2',
      CPU_REQ_M: '250',
      MEM_MI: '256',
      MODE: 'fast',
      PASSWORD: 's3cret',
    });
  });

  it('uses node allocatable for a limit the container does not set', async () => {
    const container: Container = {
      name: 'app',
      image: 'busybox',
      env: [{ name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } }],
    };
    const env = await resolveEnv(makePod({ containers: [container] }), container, {
      objects: objects(),
      nodeAllocatable: { memory: '2Gi' },
    });
    expect(env).toEqual([{ key: 'MEM', value: String(2 * 1024 ** 3) }]);
  });

  it('uses the pod-level limit (spec.resources) before node allocatable for a limit the container does not set', async () => {
    const container: Container = {
      name: 'app',
      image: 'busybox',
      resources: { limits: { cpu: '250m' } },
      env: [
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        { name: 'CPU_M', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
        { name: 'DISK', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } },
      ],
    };
    const pod = makePod({ containers: [container] });
    pod.spec.resources = { limits: { cpu: '1', memory: '128Mi' } };
    const env = await resolveEnv(pod, container, {
      objects: objects(),
      nodeAllocatable: { cpu: '2', memory: '2Gi', 'ephemeral-storage': '10Gi' },
    });
    expect(env).toEqual([
      { key: 'MEM', value: String(128 * 1024 ** 2) },
      // The container's own limit still wins; ephemeral-storage is no pod-level resource.
      { key: 'CPU_M', value: '250' },
      { key: 'DISK', value: String(10 * 1024 ** 3) },
    ]);
  });

  it('applies envFrom with prefixes, passes every key through (relaxed names), and lets env override', async () => {
    const container: Container = {
      name: 'app',
      image: 'busybox',
      envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }],
      env: [
        { name: 'level', value: '9' },
        { name: 'DESC', value: '$(mode)-$(S_password)-$(MISSING)-$$(mode)' },
      ],
    };
    const env = await resolveEnv(makePod({ containers: [container] }), container, {
      objects: objects([settings], [creds]),
    });
    expect(env).toEqual([
      { key: 'mode', value: 'fast' },
      { key: 'bad key', value: 'x' },
      { key: 'level', value: '9' },
      { key: 'S_password', value: 's3cret' },
      { key: 'DESC', value: 'fast-s3cret-$(MISSING)-$(mode)' },
    ]);
  });

  it('envFrom prefixes may start with a digit or hold symbols (v1.36 relaxed names): 1-mode, #@!mode', async () => {
    const container: Container = {
      name: 'app',
      image: 'busybox',
      envFrom: [
        { prefix: '1-', configMapRef: { name: 'settings' } },
        { prefix: '#@!', secretRef: { name: 'creds' } },
      ],
    };
    const env = await resolveEnv(makePod({ containers: [container] }), container, {
      objects: objects([settings], [creds]),
    });
    expect(env.map((e) => e.key)).toEqual(['1-mode', '1-bad key', '1-level', '#@!password']);
  });

  it('fails with CreateContainerConfigError naming the missing object or key, unless optional', async () => {
    const missingMap: Container = {
      name: 'app',
      image: 'b',
      env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }],
    };
    await expect(
      resolveEnv(makePod({ containers: [missingMap] }), missingMap, { objects: objects() }),
    ).rejects.toMatchObject({
      code: 'CREATE_CONTAINER_CONFIG',
      field: 'env[0].valueFrom.configMapKeyRef',
      value: 'nope',
      reason: 'configmap "nope" not found',
    });
    const missingKey: Container = {
      name: 'app',
      image: 'b',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } }],
    };
    const error = await resolveEnv(makePod({ containers: [missingKey] }), missingKey, {
      objects: objects([], [creds]),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(CreateContainerConfigError);
    expect(error.message).toContain("couldn't find key user in Secret default/creds");
    const optional: Container = {
      name: 'app',
      image: 'b',
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } }],
      envFrom: [{ configMapRef: { name: 'nope', optional: true } }],
    };
    expect(await resolveEnv(makePod({ containers: [optional] }), optional, { objects: objects() })).toEqual(
      [],
    );
  });

  it('rejects unsupported field paths', async () => {
    const container: Container = {
      name: 'app',
      image: 'b',
      env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.schedulerName' } } }],
    };
    await expect(
      resolveEnv(makePod({ containers: [container] }), container, { objects: objects() }),
    ).rejects.toMatchObject({
      field: 'env[0].valueFrom.fieldRef.fieldPath',
      value: 'spec.schedulerName',
    });
  });
});

describe('expandVars', () => {
  it('follows upstream expansion rules', () => {
    const lookup = (name: string) => ({ A: 'a', B: 'b' })[name];
    expect(expandVars('$(A)$(B)', lookup)).toBe('ab');
    expect(expandVars('$(C)', lookup)).toBe('$(C)');
    expect(expandVars('$$(A)', lookup)).toBe('$(A)');
    expect(expandVars('$$$(A)', lookup)).toBe('$a');
    expect(expandVars('price: $5', lookup)).toBe('price: $5');
    expect(expandVars('$(A', lookup)).toBe('$(A');
    expect(expandVars('trailing $', lookup)).toBe('trailing $');
  });
});
