import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const tsxCli = join(import.meta.dirname, '..', '..', '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');

/**
 * Each client in a process whose PATH has no iptables/nft: the call rejects with
 * CommandNotFoundError naming the tool and its Debian package, and the process then exits by
 * itself (a kill timer left behind by the failed spawn used to hold it for 10 minutes; here
 * spawnSync's generous timeout would kill it and `signal` would say so).
 */
describe('a client whose binary is not installed', () => {
  it.each([
    ['iptables', 'iptables', 'iptables'],
    ['ip6tables', 'ip6tables', 'iptables'],
    ['iptables-nft-restore', 'iptables-nft-restore', 'iptables'],
    ['nft', 'nft', 'nftables'],
  ])('%s: typed error naming %s and Debian package %s, and the process exits', (client, command, pkg) => {
    const child = spawnSync(
      process.execPath,
      [
        tsxCli,
        '--conditions=@nodeagent/source',
        join(import.meta.dirname, 'fixtures', 'missing-binary.ts'),
        client,
      ],
      { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH: '/nonexistent' } },
    );
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({
      name: 'CommandNotFoundError',
      code: 'COMMAND_NOT_FOUND',
      command,
      debianPackage: pkg,
      message: `${command}: executable file not found in $PATH (install the Debian package "${pkg}")`,
    });
  });
});
