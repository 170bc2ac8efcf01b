import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  CommandNotFoundError,
  debianPackageOf,
  InputAbortedError,
  isCommandNotFoundError,
  localRunner,
  netnsRunner,
  runChecked,
  runCommand,
} from '../src/index';

const node = process.execPath;
const tsxCli = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
const nsenterPath = () => execFileSync('sh', ['-c', 'command -v nsenter'], { encoding: 'utf8' }).trim();

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

  it('rejects with CommandNotFoundError, naming the Debian package, when the program is missing', async () => {
    const err = await runCommand(['/nonexistent/program']).catch((e) => e);
    expect(isCommandNotFoundError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'COMMAND_NOT_FOUND', command: '/nonexistent/program' });
    expect(err.debianPackage).toBeUndefined();
    expect(err.message).toBe('/nonexistent/program: executable file not found');

    const empty = { PATH: '/nonexistent' };
    const nft = await localRunner.run('nft', ['list', 'ruleset'], { env: empty }).catch((e) => e);
    expect(nft).toBeInstanceOf(CommandNotFoundError);
    expect(nft.message).toBe(
      'nft: executable file not found in $PATH (install the Debian package "nftables")',
    );
    const hinted = await runCommand(['my-tool'], { env: empty, debianPackage: 'my-pkg' }).catch((e) => e);
    expect(hinted).toMatchObject({ command: 'my-tool', debianPackage: 'my-pkg' });
  });

  it.each([
    ['iptables', 'iptables'],
    ['ip6tables', 'iptables'],
    ['nft', 'nftables'],
    ['ipset', 'ipset'],
    ['conntrack', 'conntrack'],
    ['ipvsadm', 'ipvsadm'],
  ])('a missing %s is CommandNotFoundError naming the Debian package %s', async (tool, pkg) => {
    // The callers (netfilter's clients, kube-proxy's ipset and conntrack layers) all start their
    // tools through runCommand or a runner over it.
    const err = await localRunner.run(tool, ['--version'], { env: { PATH: '/nonexistent' } }).catch((e) => e);
    expect(err).toMatchObject({
      name: 'CommandNotFoundError',
      code: 'COMMAND_NOT_FOUND',
      command: tool,
      debianPackage: pkg,
    });
  });

  it('names the Debian package of every external tool the packages run', () => {
    expect(
      Object.fromEntries(
        [
          'iptables',
          'ip6tables',
          'iptables-nft-restore',
          'ip6tables-legacy-save',
          'iptables-save',
          'nft',
          'ipset',
          'conntrack',
          '/usr/sbin/ipvsadm',
          'nsenter',
          'unknown-tool',
        ].map((c) => [c, debianPackageOf(c)]),
      ),
    ).toEqual({
      iptables: 'iptables',
      ip6tables: 'iptables',
      'iptables-nft-restore': 'iptables',
      'ip6tables-legacy-save': 'iptables',
      'iptables-save': 'iptables',
      nft: 'nftables',
      ipset: 'ipset',
      conntrack: 'conntrack',
      '/usr/sbin/ipvsadm': 'ipvsadm',
      nsenter: 'util-linux',
      'unknown-tool': undefined,
    });
  });

  it('lets the process exit when a program is missing (its kill timer is cleared)', () => {
    // Before, spawn()'s own timeout timer outlived a failed spawn and held the process for
    // timeoutMs; the child below would then be killed by spawnSync's timeout instead.
    const script = `
      import { runCommand } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', 'src', 'index.ts')).href)};
      runCommand(['nft'], { timeoutMs: 600000, env: { PATH: '/nonexistent' } }).catch((e) => console.log(e.code, e.message));
    `;
    const child = spawnSync(process.execPath, [tsxCli, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('COMMAND_NOT_FOUND nft: executable file not found');
  });

  it('in a network namespace, reports a program nsenter cannot find as CommandNotFoundError', async () => {
    // This process's own namespace: nsenter enters it, nothing about it changes.
    const runner = netnsRunner(`/proc/${process.pid}/ns/net`);
    const err = await runner
      .run('ipset', ['list'], { env: { PATH: `/nonexistent:${dirname(nsenterPath())}` } })
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'COMMAND_NOT_FOUND', command: 'ipset', debianPackage: 'ipset' });
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
