import { describe, expect, it } from 'vitest';
import { snapshotFromObjects } from '../src/index';
import { parseIpAddrShow, parseIpsetSave, planIpvs, renderIpsetRestore } from '../src/ipvs/index';
import { service, slice } from './fixtures';

describe('ipvs exec layers: parsing tool output', () => {
  it('parses `ip -o addr show` into interface/address pairs, both families', () => {
    const text = [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '1: lo    inet6 ::1/128 scope host noprefixroute \\       valid_lft forever preferred_lft forever',
      '5: kube-ipvs0    inet 10.96.0.100/32 scope global kube-ipvs0\\       valid_lft forever preferred_lft forever',
      '7: eth0@if8    inet6 fd00::10/64 scope global \\       valid_lft forever preferred_lft forever',
      '',
    ].join('\n');
    expect(parseIpAddrShow(text)).toEqual([
      { link: 'lo', address: '127.0.0.1' },
      { link: 'lo', address: '::1' },
      { link: 'kube-ipvs0', address: '10.96.0.100' },
      { link: 'eth0', address: 'fd00::10' },
    ]);
  });

  it('parses `ipset save` and round-trips what renderIpsetRestore writes', () => {
    const text = [
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1',
      'add KUBE-CLUSTER-IP 10.96.0.100,tcp:80',
      'create KUBE-NODE-PORT-TCP bitmap:port range 0-65535',
      'add KUBE-NODE-PORT-TCP 30080',
      'create OTHER hash:ip family inet hashsize 1024 maxelem 65536',
      '',
    ].join('\n');
    const sets = parseIpsetSave(text);
    expect(sets.get('KUBE-CLUSTER-IP')).toEqual({
      type: 'hash:ip,port',
      entries: new Set(['10.96.0.100,tcp:80']),
    });
    expect(sets.get('KUBE-NODE-PORT-TCP')?.entries).toEqual(new Set(['30080']));
    expect(sets.get('OTHER')?.entries.size).toBe(0);

    const plan = planIpvs(
      snapshotFromObjects({
        family: 'IPv4',
        nodeName: 'n',
        services: [service('web', { clusterIP: '10.96.0.100' })],
        endpointSlices: [slice('web', [{ ip: '10.244.1.1' }])],
      }),
    );
    const current = new Map([...sets].map(([n, s]) => [n, s.entries]));
    current.get('KUBE-CLUSTER-IP')!.add('10.96.0.99,tcp:80');
    const script = renderIpsetRestore(plan.ipsets.values(), current);
    // Only what differs: the stale entry goes, the missing sets are created, nothing else.
    expect(script).toContain('del KUBE-CLUSTER-IP 10.96.0.99,tcp:80');
    expect(script).not.toContain('add KUBE-CLUSTER-IP 10.96.0.100,tcp:80');
    expect(script).not.toContain('create KUBE-CLUSTER-IP');
    expect(script).toContain('create KUBE-IPVS-IPS hash:ip family inet hashsize 1024 maxelem 65536');
    expect(script).toContain('add KUBE-IPVS-IPS 10.96.0.100');
    expect(script).toContain('del KUBE-NODE-PORT-TCP 30080');
  });
});
