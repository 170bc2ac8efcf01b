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
