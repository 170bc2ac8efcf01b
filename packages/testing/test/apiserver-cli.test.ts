import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseApiServerArgs, runApiServerCli } from '../src/cli/apiserver-command';

describe('nodeagent-test-apiserver command line', () => {
  it('maps flags to server options, with kube-apiserver style names', () => {
    expect(parseApiServerArgs([])).toEqual({
      server: {
        port: 0,
        tls: false,
        historyWindow: 10_000,
        serviceCIDR: '10.96.0.0/12',
        endpointSliceController: { maxEndpointsPerSlice: 100 },
      },
    });
    const o = parseApiServerArgs([
      '--port=6443',
      '--tls',
      '--kubeconfig',
      '/x/kc',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--no-endpointslice-controller',
    ]);
    expect(o).toMatchObject({
      kubeconfig: '/x/kc',
      server: { port: 6443, tls: true, serviceCIDR: '10.0.0.0/24', endpointSliceController: false },
    });
  });

  it('rejects bad values naming the flag', () => {
    expect(() => parseApiServerArgs(['--port', '70000'])).toThrow(/--port/);
    expect(() => parseApiServerArgs(['--service-cluster-ip-range', '10.0.0.1'])).toThrow(
      /service-cluster-ip-range/,
    );
  });

  it('maps the control-plane flags (kube-controller-manager and kube-apiserver names)', () => {
    // Default: no controllers, no scheduler, as before.
    expect(parseApiServerArgs([]).server.controlPlane).toBeUndefined();
    const all = parseApiServerArgs([
      '--controllers=*',
      '--node-monitor-period=1s',
      '--node-monitor-grace-period',
      '1m30s',
      '--node-startup-grace-period=500ms',
      '--default-not-ready-toleration-seconds=7',
      '--default-unreachable-toleration-seconds',
      '0',
    ]).server;
    expect(all.controlPlane).toEqual({
      scheduler: true,
      nodeLifecycle: {
        nodeMonitorPeriodSeconds: 1,
        nodeMonitorGracePeriodSeconds: 90,
        nodeStartupGracePeriodSeconds: 0.5,
      },
    });
    expect(all).toMatchObject({
      defaultNotReadyTolerationSeconds: 7,
      defaultUnreachableTolerationSeconds: 0,
    });
    // `-name` removes one from `*`; the older names (nodelifecycle, replicaset...) are aliases.
    expect(
      parseApiServerArgs(['--controllers=*,-taint-eviction-controller,-garbagecollector', '--no-scheduler'])
        .server.controlPlane,
    ).toEqual({ scheduler: false, nodeLifecycle: {}, taintEviction: false, garbageCollector: false });
    expect(parseApiServerArgs(['--controllers', 'nodelifecycle,replicaset']).server.controlPlane).toEqual({
      scheduler: true,
      nodeLifecycle: {},
      taintEviction: false,
      deployment: false,
      garbageCollector: false,
    });
    // The scheduler alone.
    expect(parseApiServerArgs(['--scheduler']).server.controlPlane).toEqual({
      scheduler: true,
      nodeLifecycle: false,
      taintEviction: false,
      replicaSet: false,
      deployment: false,
      garbageCollector: false,
    });
  });

  it('rejects bad control-plane values naming the flag and the value', () => {
    expect(() => parseApiServerArgs(['--controllers=*,-bogus'])).toThrow(
      '--controllers: unknown controller "bogus" in "*,-bogus"',
    );
    expect(() => parseApiServerArgs(['--controllers=*', '--node-monitor-period=5'])).toThrow(
      '--node-monitor-period must be a Go duration such as 5s or 1m30s, got "5"',
    );
    expect(() => parseApiServerArgs(['--controllers=*', '--node-monitor-grace-period=0s'])).toThrow(
      '--node-monitor-grace-period must be a positive duration, got "0s"',
    );
    expect(() => parseApiServerArgs(['--controllers=*', '--node-startup-grace-period=-1m'])).toThrow(
      '--node-startup-grace-period must be a positive duration, got "-1m"',
    );
    // A timing for a controller that is not running would be ignored: refused instead.
    expect(() => parseApiServerArgs(['--node-monitor-period=1s'])).toThrow(
      '--node-monitor-period needs node-lifecycle-controller in --controllers, got --controllers=""',
    );
    expect(() => parseApiServerArgs(['--default-not-ready-toleration-seconds=1.5'])).toThrow(
      '--default-not-ready-toleration-seconds must be an integer in [0, 2147483647], got "1.5"',
    );
    expect(() => parseApiServerArgs(['--default-unreachable-toleration-seconds=-1'])).toThrow(
      /--default-unreachable-toleration-seconds.*"-1"/,
    );
  });

  it('starts the control plane the flags ask for', async () => {
    const server = await runApiServerCli(
      ['--controllers=*,-deployment-controller', '--node-monitor-period=2s'],
      () => {},
    );
    try {
      expect(server.controlPlane?.nodeLifecycle).toBeDefined();
      expect(server.controlPlane?.scheduler).toBeDefined();
      expect(server.controlPlane?.deployment).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('starts a server, writes the kubeconfig and prints where it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), `na-apiserver-cli-${process.pid}-`));
    const lines: string[] = [];
    const server = await runApiServerCli(['--kubeconfig', join(dir, 'kubeconfig')], (l) => lines.push(l));
    try {
      const printed = JSON.parse(lines[0] as string);
      expect(printed).toEqual({ url: server.url, kubeconfig: join(dir, 'kubeconfig') });
      expect(readFileSync(join(dir, 'kubeconfig'), 'utf8')).toContain(server.url);
      const core = server.kubeConfig().makeApiClient(CoreV1Api);
      expect((await core.listNamespace()).items.length).toBeGreaterThanOrEqual(4);
      expect(server.endpointSliceController).toBeDefined();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
