import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runChild } from '../run-child.mjs';

const module = fileURLToPath(new URL('../run-child.mjs', import.meta.url));

/** A child that says it is ready, and on SIGTERM says it cleaned up and exits 130. */
const CHILD = `
process.on('SIGTERM', () => { process.stdout.write('child cleaned up\\n'); process.exit(130); });
setInterval(() => {}, 1000);
process.stdout.write('ready\\n');`;

/** A parent that runs CHILD through runChild and prints how it ended. */
const PARENT = `
import { runChild } from ${JSON.stringify(module)};
const end = await runChild(process.execPath, ['-e', ${JSON.stringify(CHILD)}]);
process.stdout.write(JSON.stringify(end) + '\\n');
process.exit(end.status);`;

describe('runChild', () => {
  it("resolves with the child's exit code, no signal passed on", async () => {
    await expect(runChild(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' })).resolves.toEqual(
      {
        status: 3,
        signal: undefined,
      },
    );
  });

  it('gives 128 + the signal for a child a signal ended', async () => {
    const end = await runChild(process.execPath, ['-e', "process.kill(process.pid, 'SIGKILL')"], {
      stdio: 'ignore',
    });
    expect(end.status).toBe(137);
  });

  it('passes a SIGTERM sent to the parent alone on to the child, and waits for its cleanup', async () => {
    const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.setEncoding('utf8');
    const ready = new Promise<void>((resolve) =>
      parent.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('ready\n')) resolve();
      }),
    );
    await ready;
    parent.kill('SIGTERM');
    const [code] = await once(parent, 'exit');
    expect(out).toContain('child cleaned up\n');
    expect(out).toContain('{"status":130,"signal":"SIGTERM"}');
    expect(code).toBe(130);
  });

  it('rejects with spawn’s error for a command that is not installed', async () => {
    await expect(runChild('na-no-such-command', [], { stdio: 'ignore' })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
