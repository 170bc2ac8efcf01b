import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import type { RuntimeContainerStatus } from '../src/cri/runtime-state';
import type { Kubelet } from '../src/kubelet';
import { streamContainerLog } from '../src/logs/log-reader';
import { type ContainerLogSeams, serveContainerLogs } from '../src/server/container-logs-route';

// The container-log symlink class (a log file, or a directory on its way, swapped for a symlink
// to a file the kubelet may read and the caller may not) at its narrowest: the swap lands after
// the server checked the file and before it reads it. The check's open handle is what is read,
// so no timing decides the outcome; the swap is made in the route's `checked` seam.

const SECRET = 'root-only-secret';
const line = (text: string) => `2026-01-01T00:00:00.000000000Z stdout F ${text}\n`;

const pod: Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { containers: [{ name: 'app', image: 'busybox' }] },
};
const running: RuntimeContainerStatus = {
  id: 'c1',
  name: 'app',
  state: 'running',
  restartCount: 0,
  hash: 'h',
  createdAt: 1,
  image: 'busybox',
  imageRef: 'busybox',
};

let dir: string;
let podLogsDir: string;
let containerDir: string;
let appLog: string;
let server: Server;
let port: number;
let seams: ContainerLogSeams = {};

beforeAll(async () => {
  const kubelet = {
    getPods: () => [pod],
    runtimeStatus: () => ({
      uid: 'u1',
      name: 'web',
      namespace: 'default',
      sandboxes: [],
      containers: [running],
    }),
    getPodStatus: () => undefined,
  } as unknown as Kubelet;
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://kubelet');
    const target = { namespace: 'default', pod: 'web', container: 'app' };
    void serveContainerLogs(kubelet, podLogsDir, target, url, request, response, seams).catch(() =>
      response.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-log-toctou-${process.pid}-`));
  podLogsDir = join(dir, 'logs');
  containerDir = join(podLogsDir, 'default_web_u1', 'app');
  appLog = join(containerDir, '0.log');
  await mkdir(containerDir, { recursive: true });
  await writeFile(appLog, line('hello'));
  await writeFile(join(dir, 'secret'), line(SECRET));
  await mkdir(join(dir, 'outside'));
  await writeFile(join(dir, 'outside', '0.log'), line(SECRET));
});
afterEach(async () => {
  seams = {};
  await rm(dir, { recursive: true, force: true });
});

async function getLogs(query = ''): Promise<[number, string]> {
  const response = await fetch(`http://127.0.0.1:${port}/containerLogs/default/web/app${query}`);
  return [response.status, await response.text()];
}

describe('a container log swapped for a symlink between the check and the read', () => {
  it('reads the file that was checked when the log file becomes a symlink to a secret', async () => {
    let swapped = false;
    seams.checked = async () => {
      await rename(appLog, `${appLog}.old`);
      await symlink(join(dir, 'secret'), appLog);
      swapped = true;
    };
    expect(await getLogs()).toEqual([200, 'hello\n']);
    expect(await getLogs('?tailLines=5')).toEqual([400, expect.stringContaining('symbolic links')]);
    expect(swapped).toBe(true);
  });

  it('reads the file that was checked when its directory becomes a symlink leading out', async () => {
    seams.checked = async () => {
      await rename(containerDir, `${containerDir}.old`);
      await symlink(join(dir, 'outside'), containerDir);
    };
    expect(await getLogs('?tailLines=5')).toEqual([200, 'hello\n']);
    // The next request checks again and refuses what is there now.
    seams = {};
    const [status, body] = await getLogs();
    expect({ status, leaked: body.includes(SECRET) }).toEqual({ status: 400, leaked: false });
    expect(body).toContain(`outside ${podLogsDir}`);
  });

  it('reads no rotated file planted as a symlink: the reader opens none through one', async () => {
    // containerd names a rotated log <n>.log.<timestamp>; --tail reaches back into it.
    await symlink(join(dir, 'secret'), `${appLog}.20260101-000000`);
    const written: string[] = [];
    const read = streamContainerLog(appLog, {
      tailLines: 10,
      write: (lines) => void written.push(lines.toString()),
    });
    await expect(read).rejects.toMatchObject({ code: 'ELOOP' });
    expect(written.join('')).not.toContain(SECRET);
    // Through the route the body ends without it.
    const [status, body] = await getLogs('?tailLines=10');
    expect({ status, leaked: body.includes(SECRET) }).toEqual({ status: 200, leaked: false });
  });
});
