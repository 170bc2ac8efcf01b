/** A pending injected failure: the next `remaining` matching requests get `code`. */
interface FailureRule {
  remaining: number;
  code: number;
  retryAfterSeconds?: number;
  match: (method: string, path: string) => boolean;
}

/** Which requests a failNext fault hits and what it answers. */
export interface FailNextOptions {
  /** Seconds for the `Retry-After` header (429/503 use it for client backoff). */
  retryAfterSeconds?: number;
  /** Only fail requests this predicate accepts (default: every API request). */
  match?: (method: string, path: string) => boolean;
}

export interface WatchControl {
  /**
   * Cut every open watch abruptly, like a dropped TCP connection: over HTTP/2 its stream alone is
   * reset (CANCEL), and the other requests of its connection go on.
   */
  dropAll(): void;
  /** Keep watch connections open but stop sending anything on them (half-open peer). */
  stallAll(): void;
  /** Forget the watch history, so watches from older resourceVersions get 410 Gone. */
  compact(): void;
}

/** Fault injection knobs of the fake API server; tests drive these directly. */
export class FaultInjector {
  private rules: FailureRule[] = [];
  /** Delay added before every API request is handled, in milliseconds. */
  latencyMs = 0;

  constructor(private readonly watches: WatchControl) {}

  /** Answer the next `n` requests with HTTP `code` (500, 429, 503, ...) and a Status body. */
  failNext(n: number, code = 500, options: FailNextOptions = {}): void {
    const rule: FailureRule = { remaining: n, code, match: options.match ?? (() => true) };
    if (options.retryAfterSeconds !== undefined) rule.retryAfterSeconds = options.retryAfterSeconds;
    this.rules.push(rule);
  }

  /** Delays every request by `ms` (0: none). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Cuts every open watch (over HTTP/2, each watch's stream, not its connection). */
  dropWatches(): void {
    this.watches.dropAll();
  }

  /** Keeps open watches open but silent, as a half-open peer. */
  stallWatches(): void {
    this.watches.stallAll();
  }

  /** Forgets the event history: older resourceVersions then get 410 Gone. */
  compactHistory(): void {
    this.watches.compact();
  }

  /** Clear pending failures and latency. */
  reset(): void {
    this.rules = [];
    this.latencyMs = 0;
  }

  /** Consume a matching failure rule for this request, if any. */
  takeFailure(method: string, path: string): { code: number; retryAfterSeconds?: number } | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.match(method, path));
    if (!rule) return undefined;
    rule.remaining--;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return rule.retryAfterSeconds === undefined
      ? { code: rule.code }
      : { code: rule.code, retryAfterSeconds: rule.retryAfterSeconds };
  }
}
