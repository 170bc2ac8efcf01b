import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration, parseDuration } from '@nodeagent/primitives';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultKubeletConfiguration, parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import { applyConfigurationOverrides, loadKubeletConfigurationFile } from '../src/config/load-config-file';
import { InvalidConfigError } from '../src/errors';

function expectConfigError(fn: () => unknown, field: string, value: unknown): InvalidConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidConfigError);
    const configError = error as InvalidConfigError;
    expect(configError.code).toBe('INVALID_CONFIG');
    expect(configError.field).toBe(field);
    expect(configError.value).toEqual(value);
    return configError;
  }
  throw new Error('expected an InvalidConfigError');
}

describe('KubeletConfiguration defaults', () => {
  it('matches upstream SetDefaults_KubeletConfiguration', () => {
    const config = defaultKubeletConfiguration();
    expect(config.apiVersion).toBe('kubelet.config.k8s.io/v1beta1');
    expect(config.kind).toBe('KubeletConfiguration');
    expect(config.syncFrequency).toBe('1m0s');
    expect(config.fileCheckFrequency).toBe('20s');
    expect(config.nodeStatusUpdateFrequency).toBe('10s');
    expect(config.nodeStatusReportFrequency).toBe('5m0s');
    expect(config.nodeLeaseDurationSeconds).toBe(40);
    expect(config.maxPods).toBe(110);
    expect(config.podPidsLimit).toBe(-1);
    expect(config.evictionHard).toEqual({
      'memory.available': '100Mi',
      'nodefs.available': '10%',
      'nodefs.inodesFree': '5%',
      'imagefs.available': '15%',
      'imagefs.inodesFree': '5%',
    });
    expect(config.imageGCHighThresholdPercent).toBe(85);
    expect(config.imageGCLowThresholdPercent).toBe(80);
    expect(config.runtimeRequestTimeout).toBe('2m0s');
    expect(config.containerRuntimeEndpoint).toBe('unix:///run/containerd/containerd.sock');
    expect(config.registerNode).toBe(true);
    expect(config.registerWithTaints).toEqual([]);
    expect(config.readOnlyPort).toBe(0);
    expect(config.port).toBe(10250);
    expect(config.clusterDNS).toEqual([]);
    expect(config.clusterDomain).toBe('');
    expect(config.staticPodPath).toBe('');
    expect(config.authentication.anonymous.enabled).toBe(false);
    expect(config.authentication.webhook.enabled).toBe(true);
    expect(config.authorization.mode).toBe('Webhook');
  });

  it('keeps given values and defaults the rest', () => {
    const { config } = parseKubeletConfiguration({
      maxPods: 20,
      clusterDNS: ['10.96.0.10'],
      clusterDomain: 'cluster.local',
    });
    expect(config.maxPods).toBe(20);
    expect(config.clusterDNS).toEqual(['10.96.0.10']);
    expect(config.syncFrequency).toBe('1m0s');
  });

  it('reports unknown fields instead of failing, like upstream lenient decoding', () => {
    const parsed = parseKubeletConfiguration({ maxPods: 5, someFutureField: true });
    expect(parsed.unknownFields).toEqual(['someFutureField']);
  });
});

describe('KubeletConfiguration validation', () => {
  it('names the field and value of a type error', () => {
    expectConfigError(() => parseKubeletConfiguration({ maxPods: 'many' }), 'maxPods', 'many');
  });

  it('rejects a bad duration', () => {
    const error = expectConfigError(
      () => parseKubeletConfiguration({ syncFrequency: 'soon' }),
      'syncFrequency',
      'soon',
    );
    expect(error.message).toContain('duration');
  });

  it('rejects out-of-range ports and nested fields with a path', () => {
    expectConfigError(() => parseKubeletConfiguration({ port: 70000 }), 'port', 70000);
    expectConfigError(
      () => parseKubeletConfiguration({ registerWithTaints: [{ key: 'a', effect: 'Sometimes' }] }),
      // Upstream's validation names the whole taint ("invalid taint: {a  Sometimes <nil>}").
      'registerWithTaints[0]',
      { key: 'a', effect: 'Sometimes' },
    );
    expectConfigError(
      () => parseKubeletConfiguration({ clusterDNS: ['not-an-ip'] }),
      'clusterDNS[0]',
      'not-an-ip',
    );
  });

  it('requires imageGCLowThresholdPercent below imageGCHighThresholdPercent', () => {
    const error = expectConfigError(
      () => parseKubeletConfiguration({ imageGCHighThresholdPercent: 50, imageGCLowThresholdPercent: 60 }),
      'imageGCLowThresholdPercent',
      60,
    );
    expect(error.message).toContain('imageGCHighThresholdPercent');
  });

  it('requires containerLogMonitorInterval of at least 3s, as upstream validation', () => {
    for (const short of ['2s', '2999ms', '-1s']) {
      const error = expectConfigError(
        () => parseKubeletConfiguration({ containerLogMonitorInterval: short }),
        'containerLogMonitorInterval',
        short,
      );
      expect(error.reason).toBe('must be a positive time duration greater than or equal to 3s');
    }
    expect(
      parseKubeletConfiguration({ containerLogMonitorInterval: '3s' }).config.containerLogMonitorInterval,
    ).toBe('3s');
    expect(defaultKubeletConfiguration().containerLogMonitorInterval).toBe('10s');
  });

  it('validates eviction thresholds', () => {
    expectConfigError(
      () => parseKubeletConfiguration({ evictionHard: { 'memory.available': 'lots' } }),
      'evictionHard[memory.available]',
      'lots',
    );
    expectConfigError(
      () => parseKubeletConfiguration({ evictionHard: { 'cpu.available': '1' } }),
      'evictionHard[cpu.available]',
      'cpu.available',
    );
  });

  it('collects every problem in causes', () => {
    try {
      parseKubeletConfiguration({ maxPods: -1, port: 70000 });
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidConfigError).causes.map((cause) => cause.field).sort()).toEqual([
        'maxPods',
        'port',
      ]);
      // Each problem once, each with its own value: no trailing "(got …)" of the first one.
      const message = (error as InvalidConfigError).message;
      expect(message).toContain('maxPods: must not be a negative number (got -1)');
      expect(message).toContain('port: must be between 1 and 65535, inclusive (got 70000)');
      expect(message.match(/\(got /g)).toHaveLength(2);
    }
  });
});

describe('configuration file and flag overrides', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('loads YAML, resolves relative paths against the file, and lets flags win', async () => {
    const dir = await mkdtemp(join(tmpdir(), `na-kubelet-config-${process.pid}-`));
    dirs.push(dir);
    const path = join(dir, 'config.yaml');
    await writeFile(
      path,
      [
        'apiVersion: kubelet.config.k8s.io/v1beta1',
        'kind: KubeletConfiguration',
        'staticPodPath: manifests',
        'maxPods: 30',
        'syncFrequency: 30s',
      ].join('\n'),
    );
    const { config } = await loadKubeletConfigurationFile(path);
    expect(config.staticPodPath).toBe(join(dir, 'manifests'));
    expect(config.maxPods).toBe(30);
    const merged = applyConfigurationOverrides(config, {
      maxPods: 12,
      containerRuntimeEndpoint: 'unix:///tmp/x.sock',
    });
    expect(merged.maxPods).toBe(12);
    expect(merged.syncFrequency).toBe('30s');
    expect(merged.containerRuntimeEndpoint).toBe('unix:///tmp/x.sock');
    expect(() => applyConfigurationOverrides(config, { maxPods: -3 })).toThrow(InvalidConfigError);
  });

  it('rejects a file with the wrong kind', async () => {
    const dir = await mkdtemp(join(tmpdir(), `na-kubelet-config-${process.pid}-`));
    dirs.push(dir);
    const path = join(dir, 'config.yaml');
    await writeFile(path, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n');
    await expect(loadKubeletConfigurationFile(path)).rejects.toMatchObject({
      field: 'kind',
      value: 'KubeProxyConfiguration',
    });
  });
});

describe('Go durations', () => {
  it('parses and formats like time.Duration', () => {
    expect(parseDuration('1m0s')).toBe(60_000);
    expect(parseDuration('2h45m')).toBe(9_900_000);
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('-2s')).toBe(-2000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('10')).toThrow();
    expect(() => parseDuration('5 minutes')).toThrow();
    expect(formatDuration(60_000)).toBe('1m0s');
    expect(formatDuration(300_000)).toBe('5m0s');
    expect(formatDuration(100)).toBe('100ms');
    expect(formatDuration(3_725_000)).toBe('1h2m5s');
    for (const ms of [1000, 61_000, 3_600_000, 90_500]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
