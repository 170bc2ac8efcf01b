import { describe, expect, it } from 'vitest';
import { CommandFailedError, InputAbortedError, localRunner, runChecked, runCommand } from '../src/index';

const node = process.execPath;

describe('runCommand', () => {
  it('passes stdin and env, and resolves with output whatever the exit code', async () => {
    const r = await runCommand(
      [
        node,
        '-e',
        'process.stdin.pipe(process.stdout); process.stderr.write(process.env.X); process.exitCode = 3',
      ],
      { input: 'hello', env: { ...process.env, X: 'from-env' } },
    );
    expect(r).toEqual({ stdout: 'hello', stderr: 'from-env', exitCode: 3 });
  });

  it('pumps a streamed input and kills the command when the producer fails', async () => {
    async function* chunks() {
      yield 'a\n';
      yield Buffer.from('b\n');
    }
    const ok = await localRunner.run(node, ['-e', 'process.stdin.pipe(process.stdout)'], { input: chunks() });
    expect(ok.stdout).toBe('a\nb\n');

    async function* failing() {
      yield 'abc';
      throw new Error('producer broke');
    }
    const err = await runCommand([node, '-e', 'process.stdin.resume()'], { input: failing() }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(InputAbortedError);
    expect(err.code).toBe('INPUT_ABORTED');
    expect(err.bytesWritten).toBe(3);
    expect(err.message).toMatch(/producer broke/);
  });

  it('takes a fractional timeout (a limit scaled by a measured speed factor)', async () => {
    const r = await runCommand([node, '-e', 'process.stdout.write("ok")'], {
      timeoutMs: 493_200.00000000006,
    });
    expect(r).toEqual({ stdout: 'ok', stderr: '', exitCode: 0 });
  });

  it('rejects when the program cannot start', async () => {
    await expect(runCommand(['/nonexistent/program'])).rejects.toThrow(/ENOENT/);
  });
});

describe('runChecked', () => {
  it('returns stdout on exit 0 and throws CommandFailedError otherwise', async () => {
    expect(await runChecked([node, '-e', 'console.log("fine")'])).toBe('fine\n');
    const err = await runChecked([node, '-e', 'console.error("bad thing"); process.exit(2)']).catch((e) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/exited with 2: bad thing/);
  });
});
