import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificatesV1Api, CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import { FakeRuntime } from '@nodeagent/cri-client/testing';
import { type ApiServer, startApiServer } from '@nodeagent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePort, killChild, node, waitFor, writeKubeletConfig } from './binary-harness';

const NODE = 'bootstrap-events-node';

/**
 * kubeadm join's order: the kubelet starts with only a bootstrap kubeconfig and
 * rotateCertificates, records its start-up events while its client certificate does not exist
 * yet (the kubeconfig it writes names kubelet-client-current.pem, not yet written), and the
 * certificate arrives later. The CSR is approved here only once the kubelet has failed to write
 * an event for want of that file, so the order is the same on every run.
 */
describe('nodeagent-kubelet: events recorded before TLS bootstrap finished', () => {
  let dir: string;
  let api: ApiServer;
  let fake: FakeRuntime;
  let child: ChildProcess | undefined;
  let output = '';
  /** Who each event create was authenticated as. */
  const eventWriters: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-kubelet-bootstrap-events-${process.pid}-`));
    // The signer signs what is approved; approving is left to the test.
    api = await startApiServer({
      tls: true,
      certificates: { approver: false },
      audit: (user, method, path) => {
        if (method === 'POST' && path.endsWith('/events')) eventWriters.push(user.username);
      },
    });
    fake = await FakeRuntime.start({ images: [] });
  });

  afterAll(async () => {
    await killChild(child);
    await fake?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps them and writes them with the client certificate once it is issued', async () => {
    const token = api.createBootstrapToken();
    api.writeBootstrapKubeconfig(join(dir, 'bootstrap-kubelet.conf'), token);
    await writeKubeletConfig(dir, ['rotateCertificates: true']);
    const certDir = join(dir, 'pki');
    child = spawn(
      node,
      [
        cli,
        '--config',
        join(dir, 'config.yaml'),
        '--bootstrap-kubeconfig',
        join(dir, 'bootstrap-kubelet.conf'),
        '--kubeconfig',
        join(dir, 'kubelet.conf'),
        ...fakeNodeFlags({
          nodeName: NODE,
          rootDir: join(dir, 'root'),
          endpoint: fake.endpoint,
          port: await freePort(),
          certDir,
        }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const admin = api.kubeConfig().makeApiClient(CertificatesV1Api);
    const core = api.kubeConfig().makeApiClient(CoreV1Api);

    // The bootstrap CSR waits; meanwhile the kubelet has recorded Starting and cannot write it.
    const csr = await waitFor('the bootstrap CSR', async () =>
      (await admin.listCertificateSigningRequest()).items.find(
        (c) => c.spec.username === `system:bootstrap:${token.slice(0, 6)}`,
      ),
    );
    await waitFor('the kubelet to have started', async () => output.includes('kubelet started'));
    // The kubeconfig names the certificate, which does not exist yet: every client of it fails
    // with ENOENT (the watches say so); the events wait instead of failing.
    const certificate = join(certDir, 'kubelet-client-current.pem');
    expect(await readFile(join(dir, 'kubelet.conf'), 'utf8')).toContain(`client-certificate: ${certificate}`);
    await waitFor('a client to fail for want of the certificate', async () =>
      output.includes(`ENOENT: no such file or directory, open '${certificate}'`),
    );
    expect(existsSync(certificate)).toBe(false);
    expect(output).not.toContain('Unable to write event');
    expect((await core.listNamespacedEvent({ namespace: 'default' })).items).toEqual([]);

    await admin.replaceCertificateSigningRequestApproval({
      name: csr.metadata?.name as string,
      body: {
        ...csr,
        status: {
          conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'approved by the test' }],
        },
      },
    });

    // Written with the node's own identity once the certificate exists: the start-up events all there.
    const wanted = ['Starting', 'CgroupV1', 'InvalidDiskCapacity'];
    const events = await waitFor(
      'the start-up events',
      async () => {
        const all = (await core.listNamespacedEvent({ namespace: 'default' })).items;
        return wanted.every((reason) => all.some((e) => e.reason === reason)) && all;
      },
      60_000,
    );
    const find = (reason: string): CoreV1Event | undefined =>
      events.find((e) => e.involvedObject.kind === 'Node' && e.reason === reason);
    expect(find('Starting')).toMatchObject({ type: 'Normal', message: 'Starting kubelet.', count: 1 });
    expect(find('CgroupV1')?.type).toBe('Warning');
    expect(find('InvalidDiskCapacity')).toMatchObject({
      type: 'Warning',
      message: 'invalid capacity 0 on image filesystem',
    });
    // Written once each, by the node's own identity, and no write failed on the way.
    expect(events.filter((e) => e.reason === 'Starting')).toHaveLength(1);
    expect(new Set(eventWriters)).toEqual(new Set([`system:node:${NODE}`]));
    expect(output).not.toContain('Unable to write event');
  }, 180_000);
});
