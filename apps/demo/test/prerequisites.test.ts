import { describe, expect, it } from 'vitest';
import { missingPrerequisites } from '../src/prerequisites';

const everything = new Set([
  'containerd',
  'runc',
  'ctr',
  'ip',
  'nsenter',
  'busybox',
  'nft',
  'iptables-restore',
]);

describe('missingPrerequisites', () => {
  it('is empty for root with every tool', () => {
    expect(
      missingPrerequisites(
        { uid: 0, which: (n) => (everything.has(n) ? `/usr/bin/${n}` : undefined), exists: () => true },
        'nftables',
      ),
    ).toEqual([]);
  });

  it('names root, each missing binary with its Debian package, and the CNI plugins', () => {
    const missing = missingPrerequisites(
      {
        uid: 1000,
        which: (n) => (n === 'containerd' || n === 'nft' ? undefined : `/bin/${n}`),
        exists: () => false,
      },
      'nftables',
    );
    expect(missing[0]).toMatch(/^root/);
    expect(missing).toContain('containerd (Debian package containerd)');
    expect(missing).toContain('nft (Debian package nftables)');
    expect(missing.some((m) => m.includes('containernetworking-plugins'))).toBe(true);
    expect(missing).toHaveLength(4);
  });

  it('asks for iptables-restore in iptables mode', () => {
    const missing = missingPrerequisites(
      { uid: 0, which: (n) => (n === 'iptables-restore' ? undefined : `/bin/${n}`), exists: () => true },
      'iptables',
    );
    expect(missing).toEqual(['iptables-restore (Debian package iptables)']);
  });
});
