import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CriClient, collectStream, createCriClient } from '../../src/index';
import { ContainerState } from '../../src/types/index';
import { netnsConnector } from './netns-connector';
import { type PrivateContainerd, startPrivateContainerd } from './private-containerd';

describe('streaming (exec with stdin, attach, port-forward) against a real containerd', () => {
  let c: PrivateContainerd;
  let cri: CriClient;
  let podSandboxId = '';
  let busybox = '';
  const opts = () => ({ connector: netnsConnector(c.netnsPath) });
  const sandboxConfig = {
    metadata: { name: `stream-${process.pid}`, uid: `stream-${process.pid}`, namespace: 'default' },
    hostname: 'stream',
  };

  async function run(name: string, command: string[]): Promise<string> {
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig,
      config: { metadata: { name }, image: { image: busybox }, command },
    });
    await cri.startContainer({ containerId });
    return containerId;
  }

  beforeAll(async () => {
    c = await startPrivateContainerd();
    busybox = c.images?.busybox.name ?? '';
    cri = await createCriClient({ endpoint: c.endpoint });
    ({ podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig }));
  }, 120_000);

  afterAll(async () => {
    cri?.close();
    await c?.stop();
  }, 60_000);

  it('feeds stdin to an exec session', async () => {
    const id = await run('stdin', ['sleep', '3600']);
    const s = await cri.execStream(
      { containerId: id, cmd: ['sh', '-c', 'read line; echo "got $line"'], stdin: true, stdout: true },
      opts(),
    );
    s.writeStdin('ping\n');
    expect(await collectStream(s)).toMatchObject({ stdout: 'got ping\n', exitCode: 0 });
  });

  it('attaches to a running container and sees its output', async () => {
    const id = await run('ticker', ['sh', '-c', 'while true; do echo tick; sleep 0.2; done']);
    const s = await cri.attachStream({ containerId: id, stdout: true, stderr: true }, opts());
    const first = await new Promise<string>((resolve) =>
      s.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    );
    expect(first).toContain('tick');
    s.close();
    expect((await cri.containerStatus({ containerId: id })).status?.state).toBe(
      ContainerState.CONTAINER_RUNNING,
    );
  });

  it('forwards a TCP connection to a port inside the pod', async () => {
    await run('web', ['httpd', '-f', '-p', '8080', '-h', '/var/www']);
    let body = '';
    for (let attempt = 0; attempt < 20 && !body.includes('200 OK'); attempt++) {
      const conn = await cri.portForwardStream(podSandboxId, 8080, opts());
      const chunks: Buffer[] = [];
      conn.on('data', (d: Buffer) => chunks.push(d));
      conn.write('GET / HTTP/1.0\r\n\r\n');
      await new Promise<void>((resolve) => {
        conn.once('end', () => resolve());
        conn.once('error', () => resolve());
      });
      body = Buffer.concat(chunks).toString('utf8');
      if (!body.includes('200 OK')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toContain('HTTP/1.1 200 OK');
    expect(body).toContain('nodeagent busybox image');
  });
});
