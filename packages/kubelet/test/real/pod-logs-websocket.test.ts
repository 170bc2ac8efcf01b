import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The cri-client's WebSocket client (not part of its public surface) speaks to the API server here.
import { openWebSocket } from '../../../cri-client/src/streaming/websocket-client';
import type { Pod } from '../../src/api/pod-types';
import { type NodeHarness, startNodeHarness } from './node-harness';

/**
 * Conformance "Pods should support retrieving logs from the container over websockets"
 * (test/e2e/common/node/pods.go): pods/log upgraded to a WebSocket through the in-process API
 * server, which reads the kubelet's /containerLogs and frames it as kube-apiserver does.
 */
let node: NodeHarness;

beforeAll(async () => {
  node = await startNodeHarness();
  node.createPod({
    metadata: { name: 'pod-logs-websocket' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'main',
          image: node.busybox,
          command: ['/bin/sh', '-c', 'echo container is alive; sleep 10000'],
        },
      ],
    },
  });
  await node.waitPod('pod-logs-websocket', 'Running', (pod: Pod) =>
    pod.status?.phase === 'Running' ? pod : undefined,
  );
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

/** Every message of a log WebSocket until the server closes it. */
async function readLogMessages(protocols: string[]): Promise<{ protocol: string; messages: Buffer[] }> {
  const url = `${node.api.url}/api/v1/namespaces/default/pods/pod-logs-websocket/log?container=main`;
  const ws = await openWebSocket(url, protocols);
  const messages: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (message: Buffer) => messages.push(message));
    ws.on('close', () => resolve());
    ws.on('error', reject);
    ws.start();
  });
  return { protocol: ws.protocol, messages };
}

describe('pods/log over a WebSocket', { timeout: 60_000 }, () => {
  it('should support retrieving logs from the container over websockets (binary.k8s.io)', async () => {
    const { protocol, messages } = await readLogMessages(['binary.k8s.io']);
    expect(protocol).toBe('binary.k8s.io');
    // As the conformance test reads it: skip blank messages, concatenate the rest.
    const text = messages
      .map((m) => m.toString('utf8'))
      .filter((m) => m.trim() !== '')
      .join('');
    expect(text).toBe('container is alive\n');
  });

  it('sends base64 text messages for base64.binary.k8s.io', async () => {
    const { protocol, messages } = await readLogMessages(['base64.binary.k8s.io']);
    expect(protocol).toBe('base64.binary.k8s.io');
    const text = messages.map((m) => Buffer.from(m.toString('ascii'), 'base64').toString('utf8')).join('');
    expect(text).toBe('container is alive\n');
  });
});
