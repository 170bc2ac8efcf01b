import type { V1Service } from '@kubernetes/client-node';
import { KubeListerWatcher, type Wire } from '@nodeagent/informer';
import { buildInfoLabels } from '@nodeagent/primitives/component-base-metrics';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KubeProxyMetrics,
  rateLimitedKubeConfig,
  setRestClientMetrics,
  TokenBucketRateLimiter,
} from '../src/runtime/index';

describe("kube-proxy's /metrics carries component-base's series, as upstream v1.36's", () => {
  let server: ApiServer | undefined;
  afterEach(async () => {
    setRestClientMetrics(undefined);
    await server?.close();
    server = undefined;
  });

  it('kubernetes_build_info [BETA] with the version --version reports', async () => {
    const text = await new KubeProxyMetrics().registry.metrics();
    const labels = Object.entries(buildInfoLabels())
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    expect(text).toMatch(/^# HELP kubernetes_build_info \[BETA\] A metric with a constant '1' value /m);
    expect(text).toContain(`kubernetes_build_info{${labels}} 1\n`);
    expect(text).toContain('git_version="v1.36.3"');
  });

  it('its rate-limited list and watch requests count in rest_client_*', { timeout: 30_000 }, async () => {
    server = await startApiServer();
    const host = new URL(server.url).host;
    const metrics = new KubeProxyMetrics();
    setRestClientMetrics(metrics.restClient);
    const limiter = new TokenBucketRateLimiter({ qps: 5, burst: 10 });
    const lw = new KubeListerWatcher<Wire<V1Service>>(rateLimitedKubeConfig(server.kubeConfig(), limiter), {
      apiVersion: 'v1',
      plural: 'services',
    });
    await lw.list({}, AbortSignal.timeout(10_000));
    // The server ends the watch after timeoutSeconds.
    await lw.watch(
      { resourceVersion: '', timeoutSeconds: 1, inactivityTimeoutMs: 30_000, allowWatchBookmarks: false },
      () => undefined,
      AbortSignal.timeout(20_000),
    );
    const text = await metrics.registry.metrics();
    expect(text).toContain(`rest_client_requests_total{code="200",host="${host}",method="GET"} 2\n`);
    // The list is timed; the watch is not (client-go's Watch records its result alone).
    expect(text).toContain(`rest_client_request_duration_seconds_count{host="${host}",verb="GET"} 1\n`);
    expect(text).toContain(`rest_client_rate_limiter_duration_seconds_count{host="${host}",verb="GET"} 2\n`);
  });
});
