import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseOpenFilesLimit } from '@nodeagent/kubelet/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, fakeNodeFlags, freePorts, node } from './binary-harness';
import { type StandaloneFakeNode, standaloneFakeNode } from './standalone-fake-node';

// --max-open-files in the binary: upstream's RunKubelet sets RLIMIT_NOFILE (soft and hard) once
// the kubelet is built and before it starts, and logs a failure and goes on.

let standalone: StandaloneFakeNode;

beforeAll(async () => {
  standalone = await standaloneFakeNode('na-kubelet-nofile-bin');
});
afterAll(async () => {
  await standalone?.close();
});

/**
 * Starts a standalone kubelet under `prlimit --nofile=4096:8192` with --max-open-files; once it
 * has started, reads its /proc/<pid>/limits and SIGTERMs it.
 */
async function run(name: string, maxOpenFiles: number) {
  const [port] = await freePorts(1);
  const config = await standalone.writeConfig(`${name}.yaml`, [], join(standalone.dir, `${name}-logs`));
  const argv = [
    '--config',
    config,
    `--max-open-files=${maxOpenFiles}`,
    ...fakeNodeFlags({
      nodeName: name,
      rootDir: join(standalone.dir, `${name}-root`),
      endpoint: standalone.fake.endpoint,
      port: port as number,
    }),
  ];
  // prlimit execs the kubelet: the child's pid is the kubelet's.
  const child = spawn('prlimit', ['--nofile=4096:8192', '--', node, cli, ...argv], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let limits: Promise<string> | undefined;
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (!limits && stderr.includes('"kubelet started"')) {
      limits = readFile(`/proc/${child.pid}/limits`, 'utf8');
      void limits.finally(() => child.kill('SIGTERM'));
    }
  });
  await new Promise((resolve) => child.once('exit', resolve));
  expect(limits, stderr).toBeDefined();
  return { limits: parseOpenFilesLimit(await (limits as Promise<string>)), stderr };
}

describe('nodeagent-kubelet --max-open-files', () => {
  it('sets the process soft and hard open-files limits to the value before it starts', async () => {
    const { limits, stderr } = await run('lower', 3000);
    expect(limits).toEqual({ soft: 3000, hard: 3000 });
    expect(stderr).not.toContain('Failed to set rlimit on max file handles');
  }, 60_000);

  it('logs upstream error when setrlimit fails (past fs.nr_open) and starts anyway, limits unchanged', async () => {
    const nrOpen = Number(await readFile('/proc/sys/fs/nr_open', 'utf8'));
    const { limits, stderr } = await run('refused', nrOpen + 1);
    expect(limits).toEqual({ soft: 8192, hard: 8192 });
    expect(stderr).toMatch(
      /^E\d{4} .*"Failed to set rlimit on max file handles" err="operation not permitted"$/m,
    );
  }, 60_000);
});
