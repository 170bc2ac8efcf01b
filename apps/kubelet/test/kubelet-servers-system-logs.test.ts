import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CriClient } from '@nodeagent/cri-client';
import {
  type CriSummaryProvider,
  type Kubelet,
  type KubeletConfigurationInput,
  parseKubeletConfiguration,
} from '@nodeagent/kubelet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeletServers } from '../src/kubelet-servers';
import { NODE_LOG_DIR, systemLogsOption } from '../src/system-log-settings';
import type { KubeletCertificates } from '../src/tls-bootstrap';

// The binary's wiring of /logs/ (upstream pkg/kubelet/server/server.go NewServer: with
// enableDebuggingHandlers, InstallSystemLogHandler(enableSystemLogHandler, enableSystemLogQuery);
// without, InstallDebuggingDisabledHandlers answers /logs/ 405 "Debug endpoints are disabled.").

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-kubelet-logs-${process.pid}-`));
  await writeFile(join(dir, 'syslog'), 'booted\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function config(overrides: KubeletConfigurationInput) {
  return parseKubeletConfiguration({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: 0,
    readOnlyPort: 0,
    healthzPort: 0,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    ...overrides,
  }).config;
}

/** GET `path` from the servers the binary starts for `overrides`, then closes them. */
async function getFromBinaryServers(
  overrides: KubeletConfigurationInput,
  path: string,
): Promise<[number, string]> {
  const certificates: KubeletCertificates = {
    clientCertificate: Promise.resolve(),
    servingTls: () => undefined,
    attachServer: () => undefined,
    stop: () => undefined,
  };
  const started = await startKubeletServers({
    config: config(overrides),
    selfSigned: undefined,
    nodeName: 'logs-node',
    hostIPs: ['127.0.0.1'],
    kubelet: {} as Kubelet,
    client: {} as CriClient,
    summary: {} as CriSummaryProvider,
    kubeConfig: undefined,
    certificates,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    systemLogDir: dir,
  });
  try {
    return await new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: started.serverPort, path, rejectUnauthorized: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve([res.statusCode ?? 0, body]));
        },
      );
      req.on('error', reject);
      req.end();
    });
  } finally {
    for (const server of started.servers) await server.close();
  }
}

describe('the kubelet binary’s /logs/', () => {
  it('serves the system log directory with the default configuration (enableSystemLogHandler true)', async () => {
    expect(systemLogsOption(config({}))).toEqual({ dir: NODE_LOG_DIR, query: false });
    expect(await getFromBinaryServers({}, '/logs/syslog')).toEqual([200, 'booted\n']);
    const [status, listing] = await getFromBinaryServers({}, '/logs/');
    expect(status).toBe(200);
    expect(listing).toContain('<a href="syslog">syslog</a>');
  });

  it('answers 405 "logs endpoint is disabled." with enableSystemLogHandler false', async () => {
    expect(await getFromBinaryServers({ enableSystemLogHandler: false }, '/logs/syslog')).toEqual([
      405,
      'logs endpoint is disabled.\n',
    ]);
  });

  it('answers 405 "Debug endpoints are disabled." with enableDebuggingHandlers false', async () => {
    expect(await getFromBinaryServers({ enableDebuggingHandlers: false }, '/logs/syslog')).toEqual([
      405,
      'Debug endpoints are disabled.\n',
    ]);
  });

  it('answers the node log query with enableSystemLogQuery and the NodeLogQuery gate, else serves the file', async () => {
    const query = { enableSystemLogQuery: true, featureGates: { NodeLogQuery: true } };
    expect(systemLogsOption(config(query))).toEqual({ dir: NODE_LOG_DIR, query: true });
    // A file query (no journalctl needed): the file under the log directory; a path beside it is 406.
    expect(await getFromBinaryServers(query, '/logs/?query=/syslog')).toEqual([200, 'booted\n']);
    expect(await getFromBinaryServers(query, '/logs/syslog?query=kubelet')).toEqual([
      406,
      'path not allowed in query mode\n',
    ]);
    // Without enableSystemLogQuery the query parameter means nothing to the file server.
    expect(await getFromBinaryServers({}, '/logs/syslog?query=kubelet')).toEqual([200, 'booted\n']);
  });
});
