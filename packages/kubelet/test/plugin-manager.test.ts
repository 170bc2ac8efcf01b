import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { type PluginServer, registrationServiceDefinition, servePlugin } from '@nodeagent/csi-client';
import { systemClock } from '@nodeagent/primitives';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PluginHandler } from '../src/pluginmanager/plugin-handler';
import { PluginManager } from '../src/pluginmanager/plugin-manager';
import { waitFor } from './helpers/wait-for';

const quiet = { info() {}, warn() {}, error() {} };

/** A registration socket as a driver's registrar serves it, recording the kubelet's verdicts. */
async function registrar(socketPath: string, info: object) {
  const statuses: { pluginRegistered: boolean; error: string }[] = [];
  const server = await servePlugin(socketPath, [
    {
      definition: registrationServiceDefinition(),
      implementation: {
        GetInfo: (_c: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => done(null, info),
        NotifyRegistrationStatus: (
          c: ServerUnaryCall<{ pluginRegistered: boolean; error: string }, unknown>,
          done: sendUnaryData<unknown>,
        ) => {
          statuses.push(c.request);
          done(null, {});
        },
      },
    },
  ]);
  return { server, statuses };
}

class RecordingHandler implements PluginHandler {
  readonly calls: string[] = [];
  failValidation = '';
  validatePlugin(name: string, endpoint: string, versions: readonly string[]) {
    this.calls.push(`validate ${name} ${endpoint} ${versions.join(',')}`);
    if (this.failValidation) throw new Error(this.failValidation);
  }
  async registerPlugin(name: string, endpoint: string) {
    this.calls.push(`register ${name} ${endpoint}`);
  }
  deregisterPlugin(name: string, endpoint: string) {
    this.calls.push(`deregister ${name} ${endpoint}`);
  }
}

let root: string;
let pm: PluginManager;
let registry: Registry;
const servers: PluginServer[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'na-plugin-manager-'));
  registry = new Registry();
  pm = new PluginManager({ rootDir: root, clock: systemClock, logger: quiet, registry });
});

afterEach(async () => {
  pm.stop();
  for (const s of servers.splice(0)) await s.close();
  await rm(root, { recursive: true, force: true });
});

async function totalPlugins(): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('plugin_manager_total_plugins{'))
    .map((l) => l.replace(root, '<root>'))
    .sort();
}

describe('plugin manager', () => {
  it('registers a socket that appears with the handler of its type, tells the plugin, and deregisters it when the socket goes', async () => {
    const csi = new RecordingHandler();
    pm.addHandler('CSIPlugin', csi);
    await pm.start();
    const sock = join(root, 'plugins_registry', 'example.csi.k8s.io-reg.sock');
    const reg = await registrar(sock, {
      type: 'CSIPlugin',
      name: 'example.csi.k8s.io',
      endpoint: '/var/lib/kubelet/plugins/example/csi.sock',
      supportedVersions: ['1.0.0'],
    });
    servers.push(reg.server);
    await waitFor('the plugin told it is registered', () => reg.statuses.length > 0, 20_000);
    expect(reg.statuses).toEqual([{ pluginRegistered: true, error: '' }]);
    expect(csi.calls).toEqual([
      'validate example.csi.k8s.io /var/lib/kubelet/plugins/example/csi.sock 1.0.0',
      'register example.csi.k8s.io /var/lib/kubelet/plugins/example/csi.sock',
    ]);
    expect(pm.registeredPlugins().map((p) => p.name)).toEqual(['example.csi.k8s.io']);
    expect(await totalPlugins()).toEqual([
      'plugin_manager_total_plugins{socket_path="<root>/plugins_registry/example.csi.k8s.io-reg.sock",state="actual_state_of_world"} 1',
      'plugin_manager_total_plugins{socket_path="<root>/plugins_registry/example.csi.k8s.io-reg.sock",state="desired_state_of_world"} 1',
    ]);

    await reg.server.close();
    await waitFor('the deregistration', () => csi.calls.length === 3, 20_000);
    expect(csi.calls[2]).toBe('deregister example.csi.k8s.io /var/lib/kubelet/plugins/example/csi.sock');
    expect(pm.registeredPlugins()).toEqual([]);
    expect(await totalPlugins()).toEqual([]);
  });

  it('finds sockets already there at start, in subdirectories too, and skips dot-names and plain files', async () => {
    const csi = new RecordingHandler();
    pm.addHandler('CSIPlugin', csi);
    await mkdir(join(root, 'plugins_registry', 'sub'), { recursive: true });
    await writeFile(join(root, 'plugins_registry', 'not-a-socket'), 'x');
    const hidden = await registrar(join(root, 'plugins_registry', '.hidden.sock'), {
      type: 'CSIPlugin',
      name: 'hidden',
      supportedVersions: ['1.0.0'],
    });
    const nested = await registrar(join(root, 'plugins_registry', 'sub', 'reg.sock'), {
      type: 'CSIPlugin',
      name: 'nested.csi',
      supportedVersions: ['1.0.0'],
    });
    servers.push(hidden.server, nested.server);
    await pm.start();
    await waitFor('the nested plugin registered', () => nested.statuses.length > 0, 20_000);
    // An empty endpoint means the registration socket itself.
    expect(csi.calls).toEqual([
      `validate nested.csi ${join(root, 'plugins_registry', 'sub', 'reg.sock')} 1.0.0`,
      `register nested.csi ${join(root, 'plugins_registry', 'sub', 'reg.sock')}`,
    ]);
    expect(hidden.statuses).toEqual([]);
  });

  it("tells a plugin of a type nobody handles, and one that fails validation, why, in upstream's words", async () => {
    const csi = new RecordingHandler();
    csi.failValidation = 'validation failed for CSI Driver bad.csi at endpoint x: no versions';
    pm.addHandler('CSIPlugin', csi);
    await pm.start();
    const unknown = await registrar(join(root, 'plugins_registry', 'dp.sock'), {
      type: 'DevicePlugin',
      name: 'example.com/dev',
      supportedVersions: ['v1beta1'],
    });
    const bad = await registrar(join(root, 'plugins_registry', 'bad.sock'), {
      type: 'CSIPlugin',
      name: 'bad.csi',
      endpoint: 'x',
      supportedVersions: [],
    });
    servers.push(unknown.server, bad.server);
    await waitFor('both verdicts', () => unknown.statuses.length > 0 && bad.statuses.length > 0, 20_000);
    expect(unknown.statuses[0]).toEqual({
      pluginRegistered: false,
      error: `RegisterPlugin error -- no handler registered for plugin type: DevicePlugin at socket ${join(root, 'plugins_registry', 'dp.sock')}`,
    });
    expect(bad.statuses[0]).toEqual({
      pluginRegistered: false,
      error:
        'RegisterPlugin error -- plugin validation failed with err: validation failed for CSI Driver bad.csi at endpoint x: no versions',
    });
    expect(pm.registeredPlugins()).toEqual([]);
  });
});
