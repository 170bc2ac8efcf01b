import type { CommandRunner } from '@nodeagent/primitives';
import type { IpFamily } from './model';

/** Which iptables implementation a host uses: iptables-nft or iptables-legacy. */
export type IptablesBackend = 'nft' | 'legacy';

/**
 * Which iptables back end the system's `iptables` is: Debian's default is the nf_tables one
 * (`iptables v1.8.9 (nf_tables)`), `iptables-legacy` the x_tables one. Rules written with one
 * are invisible to the other, so kube-proxy must use the same one as the rest of the node.
 */
export async function detectIptablesBackend(
  runner: CommandRunner,
  family: IpFamily = 'ipv4',
): Promise<IptablesBackend> {
  const result = await runner.run(family === 'ipv6' ? 'ip6tables' : 'iptables', ['--version']);
  const text = `${result.stdout}${result.stderr}`;
  if (text.includes('nf_tables')) return 'nft';
  if (text.includes('legacy')) return 'legacy';
  // Versions before 1.8 had only the legacy back end and printed no suffix.
  return 'legacy';
}

/** The binaries of a back end: explicit names so a later alternatives switch cannot mix them. */
export function iptablesCommands(backend: IptablesBackend, family: IpFamily) {
  const base = family === 'ipv6' ? 'ip6tables' : 'iptables';
  const suffix = backend === 'nft' ? '-nft' : '-legacy';
  return { iptables: `${base}${suffix}`, restore: `${base}${suffix}-restore`, save: `${base}${suffix}-save` };
}
