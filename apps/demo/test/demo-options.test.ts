import { describe, expect, it } from 'vitest';
import { demoUsage, parseDemoOptions } from '../src/demo-options';
import { InvalidArgumentError } from '../src/errors';

describe('parseDemoOptions', () => {
  it('defaults to the interactive containerd show with kube-proxy in nftables mode', () => {
    expect(parseDemoOptions([])).toEqual({
      once: false,
      fakeRuntime: false,
      nodes: 1,
      proxyMode: 'nftables',
      requests: 8,
      readyTimeoutSeconds: 90,
      keepLogs: false,
      json: false,
      help: false,
      scenario: {
        scenario: undefined,
        tolerationSeconds: 300,
        nodeMonitorGracePeriodSeconds: 50,
        nodeMonitorPeriodSeconds: 5,
        nodeLeaseDurationSeconds: 40,
      },
    });
  });

  it('reads every flag', () => {
    const o = parseDemoOptions([
      '--once',
      '--fake-runtime',
      '--nodes',
      '3',
      '--proxy-mode',
      'iptables',
      '--requests',
      '3',
      '--ready-timeout',
      '20',
      '--keep-logs',
      '--json',
    ]);
    expect(o).toMatchObject({
      once: true,
      fakeRuntime: true,
      nodes: 3,
      proxyMode: 'iptables',
      requests: 3,
      readyTimeoutSeconds: 20,
      keepLogs: true,
      json: true,
    });
    expect(parseDemoOptions(['-h']).help).toBe(true);
  });

  it('rejects an unknown proxy mode naming the flag and value', () => {
    const error = (() => {
      try {
        parseDemoOptions(['--proxy-mode', 'ipvs']);
      } catch (e) {
        return e as InvalidArgumentError;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.field).toBe('--proxy-mode');
    expect(error?.value).toBe('ipvs');
    expect(error?.message).toContain('must be nftables or iptables (ipvs mode needs the kernel');
    expect(() => parseDemoOptions(['--proxy-mode', 'userspace'])).toThrow(/must be nftables or iptables$/);
  });

  it('rejects non-positive request counts and unknown flags', () => {
    expect(() => parseDemoOptions(['--requests', '0'])).toThrow(/--requests/);
    expect(() => parseDemoOptions(['--requests', 'many'])).toThrow(InvalidArgumentError);
    expect(() => parseDemoOptions(['--frobnicate'])).toThrow(InvalidArgumentError);
  });

  it('takes 1 to 5 nodes and names the flag and value otherwise', () => {
    expect(parseDemoOptions(['--nodes', '5']).nodes).toBe(5);
    expect(() => parseDemoOptions(['--nodes', '0'])).toThrow(/--nodes: "0" is not a positive integer/);
    expect(() => parseDemoOptions(['--nodes', '6'])).toThrow(
      /--nodes: "6" is more than 5 \(each node runs containerd, a kubelet and kube-proxy\)/,
    );
  });
});

describe('demoUsage (--help)', () => {
  it('names the runtime choice: the variable, both containerds and the default', () => {
    const environment = demoUsage.slice(demoUsage.indexOf('\nEnvironment:\n'));
    expect(environment).toMatch(/^\nEnvironment:\n {2}NODEAGENT_CONTAINERD=1\.6\|2\.1\n/);
    // The default, as chooseContainerd makes it: 2.1 when unpacked, else 1.6.
    expect(environment.replace(/\s+/g, ' ')).toContain(
      "unset: 2.1 (Debian unstable's, with its runc 1.3) when tools/install-deps.mjs has unpacked it, else 1.6",
    );
  });
});
