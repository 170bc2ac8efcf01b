import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { apiRequest } from '../src/index';
import { defaultUserAgent } from '../src/user-agent';
import { plainHttpKubeConfig } from './plain-http-kube-config';

describe("client-go's default user agent", () => {
  it('names the executable, the Kubernetes version, the platform and an unknown commit', () => {
    expect(defaultUserAgent({ execPath: '/usr/bin/kubelet', platform: 'linux', arch: 'x64' })).toBe(
      'kubelet/v1.36.3 (linux/amd64) kubernetes/unknown',
    );
    expect(
      defaultUserAgent({ execPath: '/usr/local/bin/kube-proxy', platform: 'linux', arch: 'arm64' }),
    ).toBe('kube-proxy/v1.36.3 (linux/arm64) kubernetes/unknown');
    // Run by node itself: the script's name.
    expect(
      defaultUserAgent({
        execPath: '/usr/bin/node',
        script: '/srv/tool/sync.mjs',
        platform: 'linux',
        arch: 'x64',
      }),
    ).toBe('sync/v1.36.3 (linux/amd64) kubernetes/unknown');
  });
});

describe('requests carry a User-Agent', { timeout: 30_000 }, () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function capture(): Promise<{ kubeConfig: KubeConfig; headers: IncomingHttpHeaders[] }> {
    const headers: IncomingHttpHeaders[] = [];
    server = createServer((request, response) => {
      headers.push(request.headers);
      response.setHeader('Content-Type', 'application/json');
      response.end('{}');
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const kubeConfig = plainHttpKubeConfig(server);
    return { kubeConfig, headers };
  }

  it("sends this process's default, and leaves a client's own alone", async () => {
    const { kubeConfig, headers } = await capture();
    await apiRequest(kubeConfig, { method: 'GET', path: '/api/v1/namespaces' });
    expect(headers[0]?.['user-agent']).toBe(defaultUserAgent());
    expect(headers[0]?.['user-agent']).toMatch(/^\S+\/v1\.36\.3 \(linux\/amd64\) kubernetes\/unknown$/);
    const named = Object.create(kubeConfig) as KubeConfig;
    named.applyToHTTPSOptions = async (options) => {
      await kubeConfig.applyToHTTPSOptions(options);
      options.headers = { ...options.headers, 'User-Agent': 'nodeagent-hollow-node/1.0 (n-1)' };
    };
    await apiRequest(named, { method: 'GET', path: '/api/v1/namespaces' });
    expect(headers[1]?.['user-agent']).toBe('nodeagent-hollow-node/1.0 (n-1)');
  });
});
