import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  buildInfoLabels,
  componentBaseMetricStability,
  registerBuildInfo,
  registerRestClientMetrics,
} from '../src/component-base-metrics';
import { annotateRegistryHelp } from '../src/metric-stability';
import { rawVersionText } from '../src/version';

/** A registry whose HELP lines carry component-base's levels, as the binaries' registries do. */
function annotated(): Registry {
  return annotateRegistryHelp(new Registry(), componentBaseMetricStability);
}

describe('kubernetes_build_info', () => {
  it("labels the version.Info fields this binary's --version=raw prints", () => {
    const runtime = { platform: 'linux', arch: 'arm64' };
    const raw = rawVersionText('kubelet', import.meta.url, {
      ...runtime,
      version: '0.1.0',
      nodeVersion: 'v20.0.0',
    });
    const fields = Object.fromEntries([...raw.matchAll(/(\w+):"([^"]*)"/g)].map((m) => [m[1], m[2]]));
    expect(buildInfoLabels(runtime)).toEqual({
      build_date: fields.BuildDate,
      compiler: fields.Compiler,
      git_commit: fields.GitCommit,
      git_tree_state: fields.GitTreeState,
      git_version: fields.GitVersion,
      go_version: fields.GoVersion,
      major: fields.Major,
      minor: fields.Minor,
      platform: fields.Platform,
    });
    expect(buildInfoLabels(runtime)).toMatchObject({ git_version: 'v1.36.3', major: '1', minor: '36' });
  });

  it('serves one series set to 1, HELP [BETA] as upstream v1.36', async () => {
    const registry = annotated();
    registerBuildInfo(registry, { platform: 'linux', arch: 'x64' });
    expect(await registry.metrics()).toContain(
      [
        "# HELP kubernetes_build_info [BETA] A metric with a constant '1' value labeled by major, minor, git version, git commit, git tree state, build date, Go version, and compiler from which Kubernetes was built, and platform on which it is running.",
        '# TYPE kubernetes_build_info gauge',
        'kubernetes_build_info{build_date="",compiler="node",git_commit="",git_tree_state="",git_version="v1.36.3",go_version="",major="1",minor="36",platform="linux/amd64"} 1',
      ].join('\n'),
    );
  });
});

describe('rest_client_* metrics', () => {
  it('counts a request by code, host and method, [ALPHA] as upstream', async () => {
    const registry = annotated();
    const restClient = registerRestClientMetrics(registry);
    restClient.requestResult('200', 'GET', '10.0.0.1:6443');
    restClient.requestResult('200', 'GET', '10.0.0.1:6443');
    restClient.requestResult('<error>', 'PATCH', '10.0.0.1:6443');
    const text = await registry.metrics();
    expect(text).toContain(
      '# HELP rest_client_requests_total [ALPHA] Number of HTTP requests, partitioned by status code, method, and host.',
    );
    expect(text).toContain('rest_client_requests_total{code="200",host="10.0.0.1:6443",method="GET"} 2');
    expect(text).toContain(
      'rest_client_requests_total{code="<error>",host="10.0.0.1:6443",method="PATCH"} 1',
    );
  });

  it("observes latency, sizes and rate-limiter waits by host and verb in restclient's buckets", async () => {
    const registry = annotated();
    const restClient = registerRestClientMetrics(registry);
    restClient.requestLatency('GET', 'h:443', 0.02);
    restClient.requestSize('POST', 'h:443', 300);
    restClient.responseSize('POST', 'h:443', 5000);
    restClient.rateLimiterLatency('GET', 'h:443', 0);
    const text = await registry.metrics();
    const les = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)",host="h:443"`, 'gm'))].map((m) => m[1]);
    expect(les('rest_client_request_duration_seconds')).toEqual([
      '0.005',
      '0.025',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2',
      '4',
      '8',
      '15',
      '30',
      '60',
      '+Inf',
    ]);
    expect(les('rest_client_rate_limiter_duration_seconds')).toEqual(
      les('rest_client_request_duration_seconds'),
    );
    expect(les('rest_client_request_size_bytes')).toEqual([
      '64',
      '256',
      '512',
      '1024',
      '4096',
      '16384',
      '65536',
      '262144',
      '1048576',
      '4194304',
      '16777216',
      '+Inf',
    ]);
    expect(text).toContain(
      'rest_client_request_duration_seconds_bucket{le="0.025",host="h:443",verb="GET"} 1',
    );
    expect(text).toContain('rest_client_request_size_bytes_bucket{le="256",host="h:443",verb="POST"} 0');
    expect(text).toContain('rest_client_request_size_bytes_bucket{le="512",host="h:443",verb="POST"} 1');
    expect(text).toContain('rest_client_response_size_bytes_sum{host="h:443",verb="POST"} 5000');
    expect(text).toContain('rest_client_rate_limiter_duration_seconds_count{host="h:443",verb="GET"} 1');
    for (const name of Object.keys(componentBaseMetricStability).filter((n) => n.startsWith('rest_client_')))
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\[ALPHA\\] `, 'm'));
  });
});
