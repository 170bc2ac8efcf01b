import { spawn } from 'node:child_process';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { ContainerLogManager } from '../../src/logs/container-log-manager';
import { logRotatePolicy } from '../../src/logs/log-rotate-policy';
import { type NodeHarness, startNodeHarness, waitFor } from './node-harness';

/**
 * Size-triggered rotation on a real containerd, read through kubectl → API server → kubelet:
 * a follower (`kubectl logs -f`) across 20+ rotations sees every line exactly once, and
 * `--tail` answers with a 1 GiB rotated file present, reading across the rotation boundary.
 */
let node: NodeHarness;

beforeAll(async () => {
  node = await startNodeHarness();
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

const maxSize = 16 * 1024;
const pad = 'x'.repeat(100);

/** The line numbers ("line <n> …") in kubectl logs output, in order. */
function lineNumbers(text: string): number[] {
  return [...text.matchAll(/^line (\d+) x+$/gm)].map((m) => Number(m[1]));
}

/** The highest line number in any of the container's log files (the current one may be empty, just rotated). */
async function lastLogged(logDir: string): Promise<number | undefined> {
  let last: number | undefined;
  for (const name of await readdir(logDir)) {
    if (name.endsWith('.tmp')) continue;
    const raw = await readFile(join(logDir, name)).catch(() => undefined);
    if (!raw) continue;
    const text = name.endsWith('.gz') ? gunzipSync(raw).toString() : raw.toString();
    for (const n of [...text.matchAll(/ F line (\d+) /g)].map((m) => Number(m[1])))
      last = Math.max(last ?? n, n);
  }
  return last;
}

describe('log rotation while kubectl logs reads', { timeout: 240_000 }, () => {
  it('a follower sees every line exactly once across 20 rotations; --tail answers with a 1 GiB rotated file present', async () => {
    node.createPod({
      metadata: { name: 'chatty' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'log',
            image: node.busybox,
            command: ['/bin/sh', '-c'],
            // ~20 lines of ~140 bytes every 50 ms (~55 KB/s) until /tmp/stop exists.
            args: [
              `i=0; while [ ! -e /tmp/stop ]; do i=$((i+1)); echo "line $i ${pad}"; if [ $((i % 20)) -eq 0 ]; then usleep 50000; fi; done; sleep 3600`,
            ],
          },
        ],
      },
    });
    await node.waitPod('chatty', 'Running', (p: Pod) => (p.status?.phase === 'Running' ? p : undefined));
    const uid = node.getPod('chatty')?.metadata.uid;
    const logDir = join(node.dir, 'logs', `default_chatty_${uid}`, 'log');

    const errors: unknown[] = [];
    let reopened = 0;
    const logs = new ContainerLogManager({
      runtime: {
        listContainers: (request: object) => node.client.listContainers(request),
        containerStatus: (request: { containerId: string; verbose: boolean }) =>
          node.client.containerStatus(request),
        reopenContainerLog: async (request: { containerId: string }) => {
          const answer = await node.client.reopenContainerLog(request);
          reopened++;
          return answer;
        },
      },
      policy: logRotatePolicy(`${maxSize / 1024}Ki`, 4),
      maxWorkers: 1,
      // Rotations come from the growth watch, long before the monitor interval's pass would.
      monitorIntervalMs: 60_000,
      logger: { info: () => undefined, warn: () => undefined, error: (obj) => errors.push(obj) },
    });
    logs.start();

    // The follower: kubectl logs -f through the API server.
    const follower = spawn(
      'kubectl',
      [
        '--kubeconfig',
        node.kubeconfig,
        '--cache-dir',
        join(node.dir, 'cache'),
        'logs',
        '-f',
        'chatty',
        '-c',
        'log',
      ],
      { env: { ...process.env, HOME: node.dir }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let followed = '';
    follower.stdout.on('data', (chunk) => {
      followed += chunk;
    });
    let followerErr = '';
    follower.stderr.on('data', (chunk) => {
      followerErr += chunk;
    });
    try {
      await waitFor('20 rotations', () => (reopened >= 20 ? true : undefined), 120_000);
      // Stop the writer, then wait until the follower has its last line.
      await node.exec('chatty', 'log', ['touch', '/tmp/stop']);
      const last = await waitFor(
        'the writer to stop',
        async () => {
          const a = await lastLogged(logDir);
          await new Promise((resolve) => setTimeout(resolve, 300));
          const b = await lastLogged(logDir);
          return a !== undefined && a === b ? a : undefined;
        },
        30_000,
      );
      await waitFor('the follower to read the last line', () =>
        lineNumbers(followed).at(-1) === last ? true : undefined,
      ).catch((error) => {
        const seen = lineNumbers(followed);
        throw new Error(
          `${(error as Error).message}: last logged ${last}, follower has ${seen.length} lines, ending ${seen.slice(-3).join(',')}; kubectl stderr: ${followerErr}`,
        );
      });
    } finally {
      follower.kill();
      await logs.stop();
    }
    expect(errors).toEqual([]);
    const seen = lineNumbers(followed);
    expect(seen.length).toBeGreaterThan(20 * (maxSize / 150));
    // Consecutive: no line lost at a rotation, none repeated.
    seen.forEach((n, i) => {
      if (i > 0) expect(n).toBe(seen[i - 1]! + 1);
    });
    console.log(`follower: ${seen.length} lines (${seen[0]}..${seen.at(-1)}) across ${reopened} rotations`);

    // A 1 GiB rotated file, the newest one (its name sorts after the others), lines "big <n>".
    const big = join(logDir, '0.log.29991231-235959');
    const handle = await open(big, 'w');
    const bigLine = (n: number) =>
      `2025-01-01T00:00:00.000000000Z stdout F big ${String(n).padStart(10, '0')} ${pad}\n`;
    const bytes = Buffer.from(Array.from({ length: 60_000 }, (_, n) => bigLine(n)).join(''));
    for (let written = 0; written < 1024 ** 3; written += bytes.length) await handle.write(bytes);
    await handle.close();
    const current = [...(await readFile(join(logDir, '0.log'), 'utf8')).matchAll(/ F line (\d+) /g)].map(
      (m) => Number(m[1]),
    );
    const one = await node.kubectl(['logs', 'chatty', '-c', 'log', '--tail=1']);
    expect(one.code).toBe(0);
    if (current.length > 0) expect(lineNumbers(one.stdout)).toEqual([current.at(-1)]);
    else expect(one.stdout).toMatch(/^big \d{10} x+\n$/);
    // Three more lines than the current file holds: the last three of the 1 GiB file first.
    const across = await node.kubectl(['logs', 'chatty', '-c', 'log', `--tail=${current.length + 3}`]);
    expect(across.code).toBe(0);
    const shown = across.stdout.split('\n').filter((l) => l !== '');
    expect(shown.slice(0, 3).map((l) => l.split(' ')[0])).toEqual(['big', 'big', 'big']);
    expect(lineNumbers(across.stdout)).toEqual(current);
    expect((await readdir(logDir)).length).toBeLessThanOrEqual(5);
  });
});
