import { InvalidArgumentError } from '../cri-error';

function toInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new InvalidArgumentError('podSubnet', ip, 'not an IPv4 address');
  }
  return (
    (((parts[0] as number) << 24) |
      ((parts[1] as number) << 16) |
      ((parts[2] as number) << 8) |
      (parts[3] as number)) >>>
    0
  );
}

function toIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Hands out pod IPs from a CIDR like host-local does: .1 is the gateway, pods start at .2. */
export class Ipv4Pool {
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();

  constructor(readonly cidr: string) {
    const [addr = '', lenText = ''] = cidr.split('/');
    const len = Number(lenText);
    if (!Number.isInteger(len) || len < 8 || len > 30)
      throw new InvalidArgumentError('podSubnet', cidr, 'prefix must be /8–/30');
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    this.base = (toInt(addr) & mask) >>> 0;
    this.size = 2 ** (32 - len);
  }

  allocate(): string {
    for (let i = 2; i < this.size - 1; i++) {
      if (!this.used.has(i)) {
        this.used.add(i);
        return toIp(this.base + i);
      }
    }
    throw new InvalidArgumentError('podSubnet', this.cidr, 'no free addresses left');
  }

  release(ip: string): void {
    if (ip) this.used.delete(toInt(ip) - this.base);
  }
}
