import { describe, expect, it, vi } from 'vitest';
import type { Container } from '../src/api/pod-types';
import type { PodRuntime } from '../src/cri/pod-runtime';
import { buildSandboxConfig, podHostnameAndDomain } from '../src/cri/sandbox-config';
import { managedHostsFileContent } from '../src/sync/etc-hosts';
import { runLifecycleHook } from '../src/sync/lifecycle-hooks';
import { makePod } from './helpers/fixtures';

const dns = { clusterDomain: 'cluster.local', clusterDNS: ['10.96.0.10'], resolvConf: '' };

describe('spec.hostnameOverride (v1.36, beta on)', () => {
  it('is the sandbox hostname and the /etc/hosts name, without domain, subdomain or name cut', () => {
    const long = `h${'x'.repeat(70)}.example`;
    const pod = makePod({ hostnameOverride: long, hostname: 'ignored', subdomain: 'sub' });
    expect(podHostnameAndDomain(pod, 'cluster.local')).toEqual({ hostname: long, domain: '' });
    const fixturePod = makePod(
      { hostnameOverride: 'custom-host', subdomain: 'sub' },
      { name: 'hostname-override' },
    );
    expect(buildSandboxConfig(fixturePod, { ...dns, attempt: 0 }).hostname).toBe('custom-host');
    // As upstream's /etc/hosts in the fixture: the pod IP maps to custom-host alone.
    const { hostname, domain } = podHostnameAndDomain(fixturePod, 'cluster.local');
    expect(managedHostsFileContent(['10.1.0.7'], hostname, domain, undefined)).toContain(
      '10.1.0.7\tcustom-host\n',
    );
  });

  it('leaves the usual hostname rules alone when unset', () => {
    const pod = makePod({ hostname: 'h', subdomain: 'sub' });
    expect(podHostnameAndDomain(pod, 'cluster.local')).toEqual({
      hostname: 'h',
      domain: 'sub.default.svc.cluster.local',
    });
  });
});

describe('lifecycle sleep action', () => {
  const runtime = {} as PodRuntime;
  const pod = makePod();
  const container: Container = { name: 'app', image: 'busybox:latest' };

  it('seconds: 0 succeeds at once without arming any timer (upstream: no sleep)', async () => {
    const sleep = vi.fn(async () => undefined);
    await runLifecycleHook({ sleep: { seconds: 0 } }, pod, container, 'cid', {
      runtime,
      podIP: undefined,
      sleep,
      timeoutSeconds: 10,
    });
    expect(sleep).not.toHaveBeenCalled();
  });

  it('sleeps the given seconds, never past the hook timeout', async () => {
    const sleep = vi.fn(async () => undefined);
    const context = { runtime, podIP: undefined, sleep, timeoutSeconds: 3 };
    await runLifecycleHook({ sleep: { seconds: 2 } }, pod, container, 'cid', context);
    await runLifecycleHook({ sleep: { seconds: 30 } }, pod, container, 'cid', context);
    expect(sleep.mock.calls).toEqual([[2000], [3000]]);
  });
});
