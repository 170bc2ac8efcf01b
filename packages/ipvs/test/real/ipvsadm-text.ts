/** Parses `ipvsadm -Ln` style listings so the integration test can compare them with the library. */

export interface IpvsadmService {
  /** `TCP 10.0.0.1:80`, `UDP [fd00::1]:53`, `FWM 7`, `FWM 9 IPv6` */
  key: string;
  scheduler: string;
  /** The rest of the line: `persistent 60 mask 64`, `(sh-fallback,sh-port)`, `ops` */
  extra: string;
  dests: { address: string; forward: string; weight: number; active: number; inactive: number }[];
}

export function parseList(text: string): IpvsadmService[] {
  const out: IpvsadmService[] = [];
  for (const line of text.split('\n')) {
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)\s*(.*?)\s*$/.exec(line);
    const fwm = /^FWM\s+(\d+)\s+(IPv6\s+)?(\S+)\s*(.*?)\s*$/.exec(line);
    const dest = /^\s+->\s+(\S+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (svc) out.push({ key: `${svc[1]} ${svc[2]}`, scheduler: svc[3]!, extra: svc[4]!, dests: [] });
    else if (fwm)
      out.push({
        key: `FWM ${fwm[1]}${fwm[2] ? ' IPv6' : ''}`,
        scheduler: fwm[3]!,
        extra: fwm[4]!,
        dests: [],
      });
    else if (dest && out.length > 0) {
      out.at(-1)!.dests.push({
        address: dest[1]!,
        forward: dest[2]!,
        weight: Number(dest[3]),
        active: Number(dest[4]),
        inactive: Number(dest[5]),
      });
    }
  }
  return out;
}

/** `ipvsadm -Ln --stats --exact`: key (service or `-> dest`) → [conns, inpkts, outpkts, inbytes, outbytes]. */
export function parseStats(text: string): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const line of text.split('\n')) {
    const m = /^(?:(TCP|UDP|SCTP|FWM)|\s+->)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (m)
      out.set(
        m[1] ? `${m[1]} ${m[2]}` : `-> ${m[2]}`,
        m.slice(3, 8).map((v) => BigInt(v!)),
      );
  }
  return out;
}

/** `Timeout (tcp tcpfin udp): 900 120 300` */
export function parseTimeouts(text: string): { tcp: number; tcpFin: number; udp: number } {
  const m = /Timeout \(tcp tcpfin udp\):\s+(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  if (!m) throw new Error(`no timeout line in ${JSON.stringify(text)}`);
  return { tcp: Number(m[1]), tcpFin: Number(m[2]), udp: Number(m[3]) };
}
