import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { systemClock } from '@nodeagent/primitives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../src/api/pod-types';
import { ContainerLogManager } from '../../src/logs/container-log-manager';
import { logRotatePolicy } from '../../src/logs/log-rotate-policy';
import { type NodeHarness, startNodeHarness } from './node-harness';

/**
 * Container log rotation through containerd's ReopenContainerLog: a container writing fast keeps
 * at most containerLogMaxFiles files of about containerLogMaxSize, no line is lost between the
 * kept files, and `kubectl logs` (pods/log → kubelet → current file) still shows the newest lines.
 */
let node: NodeHarness;

beforeAll(async () => {
  node = await startNodeHarness();
}, 180_000);

afterAll(async () => {
  await node?.stop();
}, 120_000);

const maxSize = 32 * 1024;
const maxFiles = 3;
const pad = 'x'.repeat(100);

/** The line numbers ("line <n> …") of CRI log text, in file order. */
function lineNumbers(text: string): number[] {
  return [...text.matchAll(/ stdout F line (\d+) /g)].map((m) => Number(m[1]));
}

describe('container log rotation on a real containerd', { timeout: 180_000 }, () => {
  it('keeps at most containerLogMaxFiles files near containerLogMaxSize, and kubectl logs reads the current one', async () => {
    node.createPod({
      metadata: { name: 'chatty' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'yes',
            image: node.busybox,
            command: ['/bin/sh', '-c'],
            // ~20 lines of ~140 bytes (with containerd's prefix) every 50 ms: ~55 KB/s.
            args: [
              `i=0; while true; do i=$((i+1)); echo "line $i ${pad}"; if [ $((i % 20)) -eq 0 ]; then usleep 50000; fi; done`,
            ],
          },
        ],
      },
    });
    await node.waitPod('chatty', 'Running', (p: Pod) => (p.status?.phase === 'Running' ? p : undefined));
    const uid = node.getPod('chatty')?.metadata.uid;
    const logDir = join(node.dir, 'logs', `default_chatty_${uid}`, 'yes');

    const errors: { obj: object; msg?: string }[] = [];
    // Rotated names need distinct timestamps; passes come every 250 ms, so the clock steps 10 s per name.
    let now = Date.UTC(2025, 0, 1);
    // Count the rotations that reached containerd, to run until several happened however busy the machine.
    let reopened = 0;
    const runtime = {
      listContainers: (request: object) => node.client.listContainers(request),
      containerStatus: (request: { containerId: string; verbose: boolean }) =>
        node.client.containerStatus(request),
      reopenContainerLog: async (request: { containerId: string }) => {
        const answer = await node.client.reopenContainerLog(request);
        reopened++;
        return answer;
      },
    };
    const logs = new ContainerLogManager({
      runtime,
      policy: logRotatePolicy(`${maxSize / 1024}Ki`, maxFiles),
      maxWorkers: 1,
      monitorIntervalMs: 250,
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: (obj, msg) => errors.push({ obj, msg }),
      },
      clock: { ...systemClock, now: () => (now += 10_000) },
    });
    logs.start();
    // Sample the directory while rotation runs: never more than maxFiles (a .tmp while compressing aside).
    let mostFiles = 0;
    const deadline = Date.now() + 120_000;
    while (reopened < 5 && Date.now() < deadline) {
      // A file and its .gz count once: both exist for an instant at the end of its compression.
      const files = new Set(
        (await readdir(logDir)).filter((f) => !f.endsWith('.tmp')).map((f) => f.replace(/\.gz$/, '')),
      );
      mostFiles = Math.max(mostFiles, files.size);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await logs.stop();
    expect(reopened).toBeGreaterThanOrEqual(5);
    expect(errors).toEqual([]);
    expect(mostFiles).toBeLessThanOrEqual(maxFiles);

    const files = (await readdir(logDir)).sort();
    // 0.log, one gzipped and the newest rotated one uncompressed. When stop() came while a due
    // rotation waited for the file to fill (its excess file already removed, as upstream removes
    // before it renames), that rotation is dropped and only the newest rotated one is left.
    expect(files.length === 3 || files.length === 2, files.join(', ')).toBe(true);
    expect(files[0]).toBe('0.log');
    if (files.length === 3) expect(files[1]).toMatch(/^0\.log\.\d{8}-\d{6}\.gz$/);
    expect(files.at(-1)).toMatch(/^0\.log\.\d{8}-\d{6}$/);
    const rotatedTexts = [
      ...(files.length === 3 ? [gunzipSync(await readFile(join(logDir, files[1]!))).toString()] : []),
      await readFile(join(logDir, files.at(-1)!), 'utf8'),
    ];
    const newer = rotatedTexts.at(-1)!;
    // Rotated only once due; one interval (plus a busy machine's delay) adds at most a little.
    for (const text of rotatedTexts) {
      expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(maxSize);
      expect(Buffer.byteLength(text)).toBeLessThan(8 * maxSize);
    }
    // containerd writes on into the reopened 0.log: the kept files hold consecutive lines.
    const current = await readFile(join(logDir, '0.log'), 'utf8');
    const numbers = [...rotatedTexts.flatMap(lineNumbers), ...lineNumbers(current)];
    expect(numbers.length).toBeGreaterThan(100);
    numbers.forEach((n, i) => {
      if (i > 0) expect(n).toBe(numbers[i - 1]! + 1);
    });
    // The oldest rotated files were removed: the first kept line is far past line 1.
    expect(numbers[0]).toBeGreaterThan(1);
    console.log(
      `log rotation: ${files.join(', ')}; rotated sizes ${rotatedTexts.map((t) => Buffer.byteLength(t)).join(', ')}, current ${Buffer.byteLength(current)}; first kept line ${numbers[0]}; most files seen ${mostFiles}; ${reopened} rotations`,
    );

    // kubectl logs reads the current file: its newest lines, numbered after everything rotated.
    // The last rotation may have come just before stop(), leaving the reopened log fewer lines
    // than the tail asks for (the reader then goes on into the rotated file): wait until
    // containerd has written five.
    const lastRotated = lineNumbers(newer).at(-1)!;
    const tailDeadline = Date.now() + 60_000;
    while (lineNumbers(await readFile(join(logDir, '0.log'), 'utf8')).length < 5 && Date.now() < tailDeadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    const tail = await node.kubectl(['logs', 'chatty', '-c', 'yes', '--tail=5']);
    expect(tail.code).toBe(0);
    const shown = [...tail.stdout.matchAll(/^line (\d+) x+$/gm)].map((m) => Number(m[1]));
    expect(shown).toHaveLength(5);
    expect(shown[0]).toBeGreaterThan(lastRotated);
  });
});
