import { runChecked, runCommand } from '@nodeagent/primitives';
import { KubeProxyError } from '../errors';
import { type IPFamily, ipFamilyOf } from '../model/ip-family';
import type { LinkLayer } from './ipvs-kernel';

/** Parses `ip -o addr show` lines into (interface, address) pairs. */
export function parseIpAddrShow(text: string): { link: string; address: string }[] {
  const out: { link: string; address: string }[] = [];
  for (const line of text.split('\n')) {
    // "3: kube-ipvs0    inet 10.96.0.1/32 scope global kube-ipvs0\       valid_lft ..."
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet6?\s+([0-9a-fA-F.:]+)\/\d+/.exec(line);
    if (m) out.push({ link: m[1]!, address: m[2]! });
  }
  return out;
}

/**
 * LinkLayer over iproute2's `ip`, for acting in a namespace through a command prefix (the daemon
 * uses rtnetlinkLinkLayer). Bulk address changes go through one `ip -batch` call.
 */
export function execLinkLayer(commandPrefix: readonly string[] = []): LinkLayer {
  const prefix = [...commandPrefix];
  const ip = (...args: string[]) => [...prefix, 'ip', ...args];
  const exists = async (name: string) => (await runCommand(ip('link', 'show', 'dev', name))).exitCode === 0;
  const batch = async (lines: string[], ignore: RegExp) => {
    if (lines.length === 0) return;
    const argv = ip('-force', '-batch', '-');
    const r = await runCommand(argv, { input: `${lines.join('\n')}\n` });
    if (r.exitCode === 0) return;
    // -force keeps going after a failed line; only complain about unexpected failures.
    const bad = r.stderr
      .split('\n')
      .filter((l) => l.trim() !== '' && !ignore.test(l) && !/^Command failed/.test(l));
    if (bad.length > 0) throw new KubeProxyError('IP_BATCH_FAILED', `${argv.join(' ')}: ${bad.join('; ')}`);
  };
  return {
    async ensureDummy(name) {
      if (await exists(name)) return;
      await runChecked(ip('link', 'add', name, 'type', 'dummy'));
    },
    linkExists: exists,
    async deleteLink(name) {
      if (await exists(name)) await runChecked(ip('link', 'del', name));
    },
    async listAddresses(name) {
      const r = await runCommand(ip('-o', 'addr', 'show', 'dev', name));
      if (r.exitCode !== 0) return [];
      return parseIpAddrShow(r.stdout).map((a) => a.address);
    },
    async addAddresses(name, addresses) {
      const lines = addresses.map((a) => `addr replace ${a}/${a.includes(':') ? 128 : 32} dev ${name}`);
      await batch(lines, /File exists/);
    },
    async deleteAddresses(name, addresses) {
      const lines = addresses.map((a) => `addr del ${a}/${a.includes(':') ? 128 : 32} dev ${name}`);
      await batch(lines, /Cannot assign requested address|Cannot find device/);
    },
    async localAddresses(family: IPFamily, exceptLink: string) {
      const out = await runChecked(ip('-o', 'addr', 'show'));
      const seen = new Set<string>();
      for (const { link, address } of parseIpAddrShow(out)) {
        if (link === exceptLink || ipFamilyOf(address) !== family) continue;
        if (address.startsWith('127.') || address === '::1' || /^fe[89ab]/i.test(address)) continue;
        seen.add(address);
      }
      return [...seen];
    },
  };
}
