/**
 * The IPVS table as `/proc/<pid>/net/ip_vs` shows it for that process's network namespace, keyed
 * and spelled as `ipvsadm -Ln` prints it ("TCP  10.96.0.100:80" → "10.250.11.2:8080" with its
 * weight). Inside the micro-VM a read of this file costs nothing, where every `ipvsadm` is a
 * process start that competes with the daemon under test for the VM's one CPU.
 */
import { readFile } from 'node:fs/promises';

/** One real server: its address as ipvsadm prints it ("10.0.0.1:80", "[fd00::1]:80") and weight. */
export interface RealServer {
  address: string;
  weight: number;
}

/** "0A600064" (IPv4, network order as hex) or "fd00:0096:…" (IPv6, full) → ipvsadm's spelling. */
function hostOf(hex: string): string {
  if (/^[0-9A-Fa-f]{8}$/.test(hex)) {
    const n = Number.parseInt(hex, 16);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  }
  // The URL parser writes an IPv6 literal in its shortest form, as ipvsadm does.
  return new URL(`http://[${hex}]/`).hostname;
}

/** "0A600064:0050" or "[fd00:…:0100]:0050" → "10.96.0.100:80" or "[fd00:96::100]:80". */
function addressOf(field: string): string {
  const m = /^\[?([0-9A-Fa-f:.]+?)\]?:([0-9A-Fa-f]{4})$/.exec(field);
  if (!m) throw new Error(`unexpected /proc/net/ip_vs address ${JSON.stringify(field)}`);
  return `${hostOf(m[1]!)}:${Number.parseInt(m[2]!, 16)}`;
}

/** The text of /proc/net/ip_vs → virtual server ("TCP  10.96.0.100:80") → its real servers. */
export function parseProcIpVs(text: string): Map<string, RealServer[]> {
  const out = new Map<string, RealServer[]>();
  let current: RealServer[] | undefined;
  for (const line of text.split('\n')) {
    const vs = /^(TCP|UDP|SCTP) {2}(\S+) /.exec(line);
    if (vs) {
      current = [];
      out.set(`${vs[1]}  ${addressOf(vs[2]!)}`, current);
      continue;
    }
    // Skips the header's "  -> RemoteAddress:Port" (not hex) and firewall-mark services.
    const rs = /^ {2}-> (\[[0-9A-Fa-f:]+\]:[0-9A-F]{4}|[0-9A-F]{8}:[0-9A-F]{4})\s+\S+\s+(\d+)/.exec(line);
    if (rs && current) current.push({ address: addressOf(rs[1]!), weight: Number(rs[2]) });
    else if (line.startsWith('FWM ')) current = undefined;
  }
  return out;
}

/** The IPVS table of the network namespace `pid` lives in. */
export async function readProcIpVs(pid: number): Promise<Map<string, RealServer[]>> {
  return parseProcIpVs(await readFile(`/proc/${pid}/net/ip_vs`, 'utf8'));
}
