import { FakeIptables } from '@nodeagent/netfilter/testing';
import { describe, expect, it } from 'vitest';
import { iptablesExecutor } from '../src/iptables/index';
import { ensureJumpRules } from '../src/ipvs/ensure-jump-rules';
import { IPVS_JUMP_RULES } from '../src/ipvs/index';

/** A kernel holding ipvs mode's chains (as the sync's main restore declares them) and one foreign INPUT rule. */
async function kernelWithChains() {
  const kernel = new FakeIptables();
  const ipt = iptablesExecutor(kernel);
  const declare = (table: string) =>
    [...new Set(IPVS_JUMP_RULES.filter((j) => j.table === table).map((j) => j.args.at(-1)))].map(
      (c) => `:${c} - [0:0]`,
    );
  await ipt.restore(
    [
      '*nat',
      ...declare('nat'),
      'COMMIT',
      '*filter',
      ...declare('filter'),
      '-A INPUT -j ACCEPT',
      'COMMIT',
      '',
    ].join('\n'),
  );
  return { kernel, ipt };
}

const quote = (args: readonly string[]) => args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ');
const expected = (table: string, chain: string) =>
  IPVS_JUMP_RULES.filter((j) => j.table === table && j.chain === chain).map(
    (j) => `${table} ${chain} ${quote(j.args)}`,
  );

describe('ensureJumpRules', () => {
  it('inserts every missing jump at the top of its chain in list order, with one save and one restore', async () => {
    const { kernel, ipt } = await kernelWithChains();
    const restoresBefore = kernel.restores.length;
    expect(await ensureJumpRules(ipt, IPVS_JUMP_RULES)).toBe(IPVS_JUMP_RULES.length);
    expect(kernel.restores.length - restoresBefore).toBe(1);
    const rules = kernel.builtinChainRules();
    const chain = (table: string, name: string) => rules.filter((r) => r.startsWith(`${table} ${name} `));
    expect(chain('nat', 'OUTPUT')).toEqual(expected('nat', 'OUTPUT'));
    expect(chain('nat', 'PREROUTING')).toEqual(expected('nat', 'PREROUTING'));
    expect(chain('nat', 'POSTROUTING')).toEqual(expected('nat', 'POSTROUTING'));
    expect(chain('filter', 'FORWARD')).toEqual(expected('filter', 'FORWARD'));
    expect(chain('filter', 'OUTPUT')).toEqual(expected('filter', 'OUTPUT'));
    // Ours first, in list order; the foreign rule stays below them.
    expect(chain('filter', 'INPUT')).toEqual([...expected('filter', 'INPUT'), 'filter INPUT -j ACCEPT']);
  });

  it('writes nothing when every jump is there, and only the missing one otherwise', async () => {
    const { kernel, ipt } = await kernelWithChains();
    await ensureJumpRules(ipt, IPVS_JUMP_RULES);
    const restores = kernel.restores.length;
    expect(await ensureJumpRules(ipt, IPVS_JUMP_RULES)).toBe(0);
    expect(kernel.restores.length).toBe(restores);
    // Someone deletes the INPUT → KUBE-PROXY-FIREWALL jump: only it comes back, at the top.
    const gone = IPVS_JUMP_RULES[5]!;
    expect(gone).toMatchObject({ table: 'filter', chain: 'INPUT' });
    await ipt.restore(`*filter\n-D INPUT ${quote(gone.args)}\nCOMMIT\n`);
    const before = kernel.builtinChainRules().length;
    expect(await ensureJumpRules(ipt, IPVS_JUMP_RULES)).toBe(1);
    expect(kernel.restores.at(-1)).toBe(`*filter\n-I INPUT ${quote(gone.args)}\nCOMMIT\n`);
    expect(kernel.builtinChainRules()).toHaveLength(before + 1);
    expect(kernel.builtinChainRules().filter((r) => r.startsWith('filter INPUT '))[0]).toBe(
      `filter INPUT ${quote(gone.args)}`,
    );
  });
});
