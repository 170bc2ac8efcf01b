import { ApplyError, IptablesClient } from '@nodeagent/netfilter';
import { FakeIptables } from '@nodeagent/netfilter/testing';
import type { CommandOutput, CommandRunner } from '@nodeagent/primitives';
import { describe, expect, it } from 'vitest';
import { prefixedRunner } from '../src/exec/prefixed-runner';
import { KubeProxyMetrics, snapshotFromObjects } from '../src/index';
import { splitSaveTables } from '../src/iptables/base-setup';
import {
  execIptables,
  type IptablesExecutor,
  IptablesProxier,
  iptablesExecutor,
  renderIptablesRuleset,
} from '../src/iptables/index';
import { service, slice } from './fixtures';

interface Call {
  file: string;
  args: readonly string[];
  input: string | undefined;
}

/** Records every command; answers `failWith` (exit 2, that stderr) while `failures` > 0. */
function recordingRunner() {
  const calls: Call[] = [];
  const state = { failures: 0, failWith: '' };
  const runner: CommandRunner = {
    async run(file, args, options = {}): Promise<CommandOutput> {
      calls.push({ file, args, input: options.input?.toString() });
      if (state.failures > 0) {
        state.failures--;
        return { stdout: '', stderr: state.failWith, exitCode: 2 };
      }
      return { stdout: '', stderr: '', exitCode: 0 };
    },
  };
  return { calls, state, runner };
}

function payloadFor(services: number): string {
  const svcs = Array.from({ length: services }, (_, i) =>
    service(`s${i}`, { clusterIP: `10.96.${i >> 8}.${i & 255}` }),
  );
  const slices = Array.from({ length: services }, (_, i) =>
    slice(`s${i}`, [{ ip: `10.244.${i >> 8}.${i & 255}` }]),
  );
  const snapshot = snapshotFromObjects({
    family: 'IPv4',
    nodeName: 'node-a',
    services: svcs,
    endpointSlices: slices,
  });
  return renderIptablesRuleset(snapshot, {}).payload;
}

describe('execIptables restore through IptablesClient', () => {
  it('runs iptables-nft-restore --noflush --counters with the payload unchanged when small', async () => {
    const { calls, runner } = recordingRunner();
    const exec = execIptables({
      family: 'IPv4',
      client: new IptablesClient({ family: 'ipv4', runner, backend: 'nft' }),
    });
    const payload = payloadFor(3);
    await exec.restore(payload);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.file).toBe('iptables-nft-restore');
    expect(calls[0]!.args).toEqual(expect.arrayContaining(['--noflush', '--counters']));
    expect(calls[0]!.input).toBe(payload);
  });

  it('widens the nft cache (a -S after the table header) of the section with thousands of chains only', async () => {
    const { calls, runner } = recordingRunner();
    const exec = execIptables({
      family: 'IPv4',
      client: new IptablesClient({ family: 'ipv4', runner, backend: 'nft' }),
    });
    const payload = payloadFor(300); // 300 × (SVC + SEP) chains, over the 512-chain threshold
    await exec.restore(payload);
    const sent = calls[0]!.input!.split('\n');
    const headers = sent.flatMap((l, i) => (l.startsWith('*') ? [i] : []));
    expect(headers.map((i) => sent[i])).toEqual(['*nat', '*filter']);
    // The nat section is widened; the small filter one keeps iptables-nft's narrowed cache.
    expect(sent[headers[0]! + 1]).toBe('-S');
    expect(sent[headers[1]! + 1]).not.toBe('-S');
    expect(sent.filter((l) => l !== '-S').join('\n')).toBe(payload);
  });

  it('keeps the legacy back end on plain --noflush and uses ip6tables for IPv6', async () => {
    const { calls, runner } = recordingRunner();
    const exec = execIptables({
      family: 'IPv6',
      client: new IptablesClient({ family: 'ipv6', runner, backend: 'legacy' }),
    });
    await exec.restore(payloadFor(300));
    expect(calls[0]!.file).toBe('ip6tables-legacy-restore');
    expect(calls[0]!.input).not.toMatch(/^-S$/m);
  });

  it('rejects with ApplyError naming the failing payload line', async () => {
    const { state, runner } = recordingRunner();
    const exec = execIptables({
      family: 'IPv4',
      client: new IptablesClient({ family: 'ipv4', runner, backend: 'nft' }),
    });
    state.failures = 1;
    state.failWith = 'iptables-restore: line 3 failed\n';
    const payload = payloadFor(1);
    const err = await exec.restore(payload).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplyError);
    expect((err as ApplyError).line).toBe(3);
    expect((err as ApplyError).lineText).toBe(payload.split('\n')[2]);
  });
});

describe('prefixedRunner', () => {
  it('puts the prefix in front of every tool and passes options through', async () => {
    const { calls, runner } = recordingRunner();
    await prefixedRunner(['ip', 'netns', 'exec', 'ns1'], runner).run('iptables-save', ['-t', 'nat'], {
      input: 'x',
    });
    expect(calls).toEqual([
      { file: 'ip', args: ['netns', 'exec', 'ns1', 'iptables-save', '-t', 'nat'], input: 'x' },
    ]);
    expect(prefixedRunner([], runner)).toBe(runner);
  });
});

describe('IptablesProxier with an IptablesClient that fails', () => {
  it('records the ApplyError, counts the failure and makes the next sync full', async () => {
    const { state, runner } = recordingRunner();
    const real = execIptables({
      family: 'IPv4',
      client: new IptablesClient({ family: 'ipv4', runner, backend: 'nft' }),
    });
    // Chains tracked in memory, every restore through the real executor and client first
    // (without restoreStream the proxier renders, then restores).
    const ipt = new FakeIptables();
    const { restoreStream: _streamed, ...tracked } = iptablesExecutor(ipt);
    const executor: IptablesExecutor = {
      ...tracked,
      async restore(payload) {
        await real.restore(payload);
        await tracked.restore(payload);
      },
    };
    const metrics = new KubeProxyMetrics();
    const proxier = new IptablesProxier({ family: 'IPv4', nodeName: 'node-a', executor, metrics });
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    expect(await proxier.syncProxyRules()).toMatchObject({ kind: 'full', ok: true });

    state.failures = 1;
    state.failWith = 'iptables-restore: line 2 failed\n';
    proxier.onServiceAdd(service('web'));
    proxier.onEndpointSliceAdd(slice('web', [{ ip: '10.244.1.1' }]));
    const failed = await proxier.syncProxyRules();
    expect(failed).toMatchObject({ kind: 'partial', ok: false });
    expect(failed?.error).toBeInstanceOf(ApplyError);
    expect(
      await metrics.registry.getSingleMetricAsString(
        'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
      ),
    ).toMatch(/\{ip_family="IPv4"\} 1$/m);

    const retried = await proxier.syncProxyRules();
    expect(retried).toMatchObject({ kind: 'full', ok: true });
    expect(ipt.restores.at(-1)).toContain('"default/web:http cluster IP"');
    await proxier.stop();
  });
});

describe('splitSaveTables', () => {
  it('splits an iptables-save of every table into its table sections', () => {
    const save = [
      '# Generated by iptables-save v1.8.9',
      '*mangle',
      ':PREROUTING ACCEPT [0:0]',
      'COMMIT',
      '# Completed',
      '# Generated by iptables-save v1.8.9',
      '*nat',
      ':KUBE-SERVICES - [0:0]',
      '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      'COMMIT',
      '# Completed',
      '',
    ].join('\n');
    const t = splitSaveTables(save);
    expect([...t.keys()]).toEqual(['mangle', 'nat']);
    expect(t.get('nat')).toBe(
      '*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT',
    );
    expect(splitSaveTables('')).toEqual(new Map());
    expect([...splitSaveTables('*filter\nCOMMIT\n').keys()]).toEqual(['filter']);
  });
});
