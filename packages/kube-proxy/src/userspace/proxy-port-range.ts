import { InvalidFieldError } from '../errors';

/** Local ports the REDIRECT-mode proxies may listen on (upstream --proxy-port-range). */
export interface ProxyPortRange {
  readonly base: number;
  readonly size: number;
}

/**
 * Parses upstream's portRange forms, "low-high" or "low+count"; '' means any free port
 * (undefined). Throws InvalidFieldError naming `field` otherwise.
 */
export function parseProxyPortRange(field: string, value: string): ProxyPortRange | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  const m = /^(\d+)\s*([-+])\s*(\d+)$/.exec(text);
  if (!m) throw new InvalidFieldError(field, value, 'expected "low-high" or "low+count"');
  const low = Number(m[1]);
  const size = m[2] === '+' ? Number(m[3]) : Number(m[3]) - low + 1;
  if (low < 1 || size < 1 || low + size - 1 > 65535) {
    throw new InvalidFieldError(
      field,
      value,
      'ports must lie within 1-65535 and the range must not be empty',
    );
  }
  return { base: low, size };
}

/**
 * Hands out ports of a range round-robin, skipping those our own proxies hold, so a port
 * freed by a removed service is not reused at once (late packets of its connections).
 */
export class ProxyPortAllocator {
  private readonly held = new Set<number>();
  private cursor = 0;

  constructor(readonly range: ProxyPortRange) {}

  /** The ports to try, in order, for the next listener; the caller marks the one it got. */
  candidates(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.range.size; i++) {
      const port = this.range.base + ((this.cursor + i) % this.range.size);
      if (!this.held.has(port)) out.push(port);
    }
    return out;
  }

  /** Marks `port` as used by one of our proxies; the next candidates start after it. */
  hold(port: number): void {
    this.held.add(port);
    this.cursor = (port - this.range.base + 1) % this.range.size;
  }

  /** Frees `port` (its proxy closed); it comes round again only after the rest of the range. */
  release(port: number): void {
    this.held.delete(port);
  }
}
