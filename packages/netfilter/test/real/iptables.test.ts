import { createNetns, type Netns, NetnsScope } from '@nodeagent/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyError, type IptablesBackend, IptablesClient, netnsRunner, type Ruleset } from '../../src/index';
import {
  diffRulesets,
  parseSave,
  renderRestore,
  servicePortChainName,
  servicePortEndpointChainName,
  validateRuleset,
} from '../../src/iptables/index';
import { rulesetArb } from '../arbitraries';

// Real kernel, each case in its own throwaway network namespace (never the host's).

const svcChain = servicePortChainName('ns1/svc1:p80', 'tcp');
const sepChain = servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.180.0.1:80');

const kubeRuleset: Ruleset = {
  family: 'ipv4',
  tables: [
    {
      name: 'nat',
      chains: [
        {
          name: 'KUBE-MARK-MASQ',
          rules: [{ matches: [], target: { kind: 'mark', op: 'or', value: 0x4000 } }],
        },
        {
          name: 'KUBE-SERVICES',
          rules: [
            {
              matches: [
                { kind: 'comment', comment: 'ns1/svc1:p80 cluster IP' },
                { kind: 'protocol', protocol: 'tcp' },
                { kind: 'destination', address: '172.30.0.41/32' },
                { kind: 'port', protocol: 'tcp', destinationPort: 80 },
              ],
              target: { kind: 'jump', chain: svcChain },
            },
          ],
        },
        {
          name: svcChain,
          rules: [
            {
              matches: [
                { kind: 'comment', comment: 'ns1/svc1:p80 -> 10.180.0.1:80' },
                { kind: 'statistic', mode: 'random', probability: 0.5 },
              ],
              target: { kind: 'jump', chain: sepChain },
            },
            { matches: [], target: { kind: 'jump', chain: sepChain } },
          ],
        },
        {
          name: sepChain,
          rules: [
            {
              matches: [
                { kind: 'comment', comment: 'ns1/svc1:p80' },
                { kind: 'source', address: '10.180.0.1/32' },
              ],
              target: { kind: 'jump', chain: 'KUBE-MARK-MASQ' },
            },
            {
              matches: [
                { kind: 'protocol', protocol: 'tcp' },
                { kind: 'recent', name: sepChain, action: 'set', side: 'source' },
              ],
              target: { kind: 'dnat', toDestination: '10.180.0.1:80' },
            },
          ],
        },
      ],
    },
    {
      name: 'filter',
      chains: [
        {
          name: 'KUBE-FORWARD',
          rules: [
            {
              matches: [{ kind: 'conntrack', states: ['INVALID'] }],
              target: { kind: 'verdict', verdict: 'DROP' },
            },
            {
              matches: [{ kind: 'mark', value: 0x4000, mask: 0x4000 }],
              target: { kind: 'verdict', verdict: 'ACCEPT' },
            },
          ],
        },
        {
          name: 'KUBE-EXTERNAL-SERVICES',
          rules: [
            {
              matches: [
                { kind: 'protocol', protocol: 'tcp' },
                { kind: 'addrtype', destinationType: 'LOCAL' },
                { kind: 'port', protocol: 'tcp', destinationPort: 30080 },
              ],
              target: { kind: 'reject' },
            },
          ],
        },
      ],
    },
  ],
};

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`iptables-restore (${backend} back end, real kernel)`, () => {
    const scope = new NetnsScope(`nf-ipt-${backend}`);
    afterAll(() => scope.cleanup());

    async function fresh(): Promise<{ netns: Netns; client: IptablesClient }> {
      const netns = await scope.create();
      return { netns, client: new IptablesClient({ runner: netnsRunner(netns.path), backend }) };
    }

    it('applies a kube-proxy ruleset and reads back the same rules', async () => {
      const { client } = await fresh();
      await client.restore(kubeRuleset);
      const saved = await client.save();
      expect(diffRulesets(saved, kubeRuleset).tables).toEqual([]);
      // Applying again (a resync) is idempotent.
      await client.restore(kubeRuleset);
      expect(diffRulesets(await client.save(), kubeRuleset).tables).toEqual([]);
    });

    it('a failed apply leaves the previous rules in place and names the failing line', async () => {
      const { client } = await fresh();
      await client.restore(kubeRuleset);
      const before = await client.saveText('nat');
      // Valid syntax the kernel refuses: MASQUERADE reached from OUTPUT.
      const payload = [
        '*nat',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-BAD - [0:0]',
        '-A KUBE-SERVICES -j ACCEPT',
        '-A OUTPUT -j KUBE-BAD',
        '-A KUBE-BAD -j MASQUERADE',
        'COMMIT',
        '',
      ].join('\n');
      const error = await client.restore(payload, { strategy: 'noflush' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplyError);
      expect((error as ApplyError).line).toBeGreaterThanOrEqual(2);
      expect((error as ApplyError).lineText).toBe(payload.split('\n')[(error as ApplyError).line! - 1]);
      const after = await client.saveText('nat');
      expect(diffRulesets(parseSave(after), parseSave(before)).tables).toEqual([]);
      expect(after).toContain(`-A KUBE-SERVICES`);
      expect(after).not.toContain('KUBE-BAD');
    });

    it('removes chains listed in deleteChains', async () => {
      const { client } = await fresh();
      await client.restore(kubeRuleset);
      const withoutSvc: Ruleset = {
        family: 'ipv4',
        tables: [
          {
            name: 'nat',
            chains: [{ name: 'KUBE-SERVICES', rules: [] }],
            deleteChains: [svcChain, sepChain],
          },
        ],
      };
      await client.restore(withoutSvc, { validate: { existingChains: { nat: ['KUBE-MARK-MASQ'] } } });
      const nat = (await client.save('nat')).tables[0]!;
      expect(nat.chains.map((c) => c.name)).not.toContain(svcChain);
      expect(nat.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules).toEqual([]);
    });

    it('ensureRule installs a jump from a built-in chain once', async () => {
      const { client } = await fresh();
      await client.restore(kubeRuleset);
      const jump = {
        matches: [{ kind: 'comment' as const, comment: 'kubernetes service portals' }],
        target: { kind: 'jump' as const, chain: 'KUBE-SERVICES' },
      };
      expect(await client.ensureRule('prepend', 'nat', 'PREROUTING', jump)).toBe(true);
      expect(await client.ensureRule('prepend', 'nat', 'PREROUTING', jump)).toBe(false);
      const prerouting = (await client.save('nat')).tables[0]!.chains.find((c) => c.name === 'PREROUTING')!;
      expect(prerouting.rules).toHaveLength(1);
    });
  });
}

describe('iptables back ends', () => {
  it('detects the system default back end', async () => {
    const netns = await createNetns({ purpose: 'nf-detect' });
    try {
      const client = new IptablesClient({ runner: netnsRunner(netns.path) });
      expect(['nft', 'legacy']).toContain(await client.backend());
    } finally {
      await netns.delete();
    }
  });
});

describe('validator vs kernel (property, real kernel)', () => {
  const scope = new NetnsScope('nf-ipt-prop');
  let netns: Netns;
  beforeAll(async () => {
    netns = await scope.create();
  });
  afterAll(() => scope.cleanup());

  it('any model the validator accepts is accepted by the kernel and reads back equal', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(rulesetArb, async (ruleset) => {
        validateRuleset(ruleset);
        // Plain (flush) restore of the tables gives each run a clean slate in one namespace.
        run++;
        await netns.exec('iptables-nft-restore', [], { input: '*nat\nCOMMIT\n*filter\nCOMMIT\n' });
        const payload = renderRestore(ruleset);
        const result = await netns.exec('iptables-nft-restore', [], { input: payload, allowFailure: true });
        expect(result.exitCode, `run ${run}: ${result.stderr}\n${payload}`).toBe(0);
        const saved = parseSave((await netns.exec('iptables-nft-save')).stdout);
        expect(diffRulesets(saved, ruleset).tables).toEqual([]);
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});

describe('ip6tables-restore (real kernel)', () => {
  it('applies and reads back an IPv6 ruleset', async () => {
    const netns = await createNetns({ purpose: 'nf-ip6' });
    try {
      const client = new IptablesClient({ family: 'ipv6', runner: netnsRunner(netns.path), backend: 'nft' });
      const ruleset: Ruleset = {
        family: 'ipv6',
        tables: [
          {
            name: 'nat',
            chains: [
              {
                name: 'KUBE-SVC-V6',
                rules: [
                  {
                    matches: [
                      { kind: 'protocol', protocol: 'tcp' },
                      { kind: 'destination', address: 'fd00:30::41' },
                      { kind: 'source', address: 'fd00:10::/64', negate: true },
                      { kind: 'port', protocol: 'tcp', destinationPort: 80 },
                    ],
                    target: { kind: 'dnat', toDestination: '[fd00:180::1]:8080' },
                  },
                ],
              },
            ],
          },
          {
            name: 'filter',
            chains: [
              {
                name: 'KUBE-V6-REJECT',
                rules: [{ matches: [], target: { kind: 'reject', with: 'icmp6-port-unreachable' } }],
              },
            ],
          },
        ],
      };
      await client.restore(ruleset);
      const text = await client.saveText();
      expect(text).toContain('-d fd00:30::41/128');
      expect(text).toContain('--to-destination [fd00:180::1]:8080');
      expect(diffRulesets(parseSave(text, 'ipv6'), ruleset).tables).toEqual([]);
      await expect(
        client.restore(
          [
            {
              name: 'nat',
              chains: [{ name: 'KUBE-X', rules: [{ matches: [{ kind: 'source', address: '10.0.0.1' }] }] }],
            },
          ],
          { validate: { full: true } },
        ),
      ).rejects.toThrow(/not an IPv6 address/);
    } finally {
      await netns.delete();
    }
  });
});
