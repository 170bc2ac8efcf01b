import { listNetns, openNetns } from '@nodeagent/testing';
import { describe, expect, it } from 'vitest';
import { runCli, UsageError } from './cli';

// Real kernel: creates and deletes namespaces through the CLI entry point.
describe('netns cli', () => {
  it('creates, lists and deletes a namespace', async () => {
    const out: string[] = [];
    expect(await runCli(['create', 'cli-test'], (line) => out.push(line))).toBe(0);
    const name = out[0] ?? '';
    try {
      expect(name).toMatch(/^na-cli-test-1-[0-9a-f]+$/);
      const listed: string[] = [];
      await runCli(['list'], (line) => listed.push(line));
      // Owner pid 1 is alive, so a human-made namespace is never listed as stale.
      expect(listed).toContain(name);
      const lo = await openNetns(name).exec('ip', ['-o', 'link', 'show', 'lo']);
      expect(lo.stdout).toContain('UP');
    } finally {
      expect(await runCli(['delete', name])).toBe(0);
    }
    expect(await listNetns()).not.toContain(name);
  });

  it('cleanup-stale deletes a namespace whose owner has exited', async () => {
    // A pid far above pid_max's default cannot belong to a live process.
    const out: string[] = [];
    await runCli(['create', 'cli-stale', '--owner', '4194303'], (line) => out.push(line));
    const name = out[0] ?? '';
    const listed: string[] = [];
    await runCli(['list'], (line) => listed.push(line));
    expect(listed).toContain(`${name}\tstale`);
    const cleaned: string[] = [];
    await runCli(['cleanup-stale'], (line) => cleaned.push(line));
    expect(cleaned).toContain(`deleted ${name}`);
    expect(await listNetns()).not.toContain(name);
  });

  it('rejects unknown commands with a usage error', async () => {
    await expect(runCli(['frobnicate'])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli(['delete'])).rejects.toBeInstanceOf(UsageError);
  });
});
