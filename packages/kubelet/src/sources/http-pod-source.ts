import { type Clock, systemClock } from '@nodeagent/primitives';
import { configSeenAnnotation } from '../api/config-source';
import type { Pod } from '../api/pod-types';
import { unrefTimer } from '../clock-timers';
import { parseBoundedYaml } from '../config/bounded-yaml';
import { InvalidPodSpecError } from '../errors';
import { refuseStaticPodApiReferences } from './static-pod-api-references';
import { staticPodDefaultsFrom } from './static-pod-source';

/** Upstream maxConfigLength: a manifest URL's body is read up to 10 MB. */
const MAX_CONFIG_LENGTH = 10 * 2 ** 20;
/** Upstream's client timeout for the manifest URL. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Where {@link HttpPodSource} reads pods from, how often, and where it hands them. */
export interface HttpPodSourceOptions {
  /** KubeletConfiguration.staticPodURL (--manifest-url). */
  url: string;
  /** staticPodURLHeader (--manifest-url-header): sent with every request. */
  headers?: Record<string, string[]>;
  nodeName: string;
  /** httpCheckFrequency in ms (upstream 20 s). */
  checkFrequencyMs: number;
  /** The clock the polls wait on (default: the system clock). */
  clock?: Clock;
  /** The full set of pods the URL gives (a Pod or a PodList), defaulted as static pods. */
  onPods: (pods: Pod[]) => void;
  /** A failed read: upstream logs the first three, then drops the message's verbosity. */
  onError?: (error: Error, failures: number) => void;
  /** Called once reading works again after failures (upstream "Successfully read pods from URL"). */
  onRecovered?: () => void;
  /** The HTTP client (default: the global fetch); tests inject a fake server. */
  fetch?: typeof fetch;
  /** The time stamped as a new pod's config.seen annotation (default: the wall clock). */
  now?: () => Date;
}

/** The pods a manifest URL's body holds: one Pod, or a PodList's items. */
export function podsFromManifest(text: string, url: string): Pod[] {
  let object: { kind?: string; items?: Pod[] } & Partial<Pod>;
  try {
    object = parseBoundedYaml(text) as typeof object;
  } catch (error) {
    throw new InvalidPodSpecError(
      'staticPodURL',
      url,
      `couldn't parse as pod or pod list: ${(error as Error).message}`,
    );
  }
  const valid = (pod: Partial<Pod> | undefined): pod is Pod => !!pod?.metadata?.name && !!pod.spec;
  if (object?.kind === 'Pod' && valid(object)) return [object];
  if (object?.kind === 'PodList' && Array.isArray(object.items) && object.items.every(valid))
    return object.items;
  throw new InvalidPodSpecError(
    'staticPodURL',
    url,
    `received '${text.slice(0, 200)}', but couldn't parse as single or multiple pods`,
  );
}

/**
 * Upstream's URL pod source (staticPodURL): reads the URL every httpCheckFrequency and hands the
 * pods it lists to the kubelet as static pods (config.source "http"). An unchanged body is not
 * handed again; an empty one is an empty set (and an error); a failed read changes nothing.
 */
export class HttpPodSource {
  private timer: unknown;
  private lastBody: string | undefined;
  private failures = 0;
  private stopped = false;
  private seen = new Map<string, string>();

  constructor(private readonly options: HttpPodSourceOptions) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /** One read of the URL; resolves whether it worked (errors go to onError). */
  async check(): Promise<boolean> {
    try {
      await this.read();
      if (this.failures > 0) this.options.onRecovered?.();
      this.failures = 0;
      return true;
    } catch (error) {
      this.failures++;
      this.options.onError?.(error as Error, this.failures);
      return false;
    }
  }

  private async read(): Promise<void> {
    const { url } = this.options;
    const headers = new Headers();
    for (const [name, values] of Object.entries(this.options.headers ?? {}))
      for (const value of values) headers.append(name, value);
    const response = await (this.options.fetch ?? fetch)(url, {
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const body = (await response.text()).slice(0, MAX_CONFIG_LENGTH);
    if (response.status !== 200)
      throw new InvalidPodSpecError('staticPodURL', url, `${response.status} ${response.statusText}`);
    if (body.length === 0) {
      this.lastBody = body;
      this.seen = new Map();
      this.options.onPods([]);
      throw new InvalidPodSpecError('staticPodURL', url, `zero-length data received from ${url}`);
    }
    if (body === this.lastBody) return;
    const manifests = podsFromManifest(body, url);
    for (const manifest of manifests) refuseStaticPodApiReferences(manifest);
    this.lastBody = body;
    const now = (this.options.now ?? (() => new Date()))().toISOString();
    // Only this body's uids are kept: every edit makes a new uid, and a pod no longer listed is gone.
    const seen = new Map<string, string>();
    this.options.onPods(
      manifests.map((manifest) => {
        const pod = staticPodDefaultsFrom(manifest, this.options.nodeName, { url }, now);
        // The first time each pod was seen stays its config.seen, as for file pods.
        const uid = pod.metadata.uid ?? '';
        const seenAt = this.seen.get(uid) ?? now;
        seen.set(uid, seenAt);
        return {
          ...pod,
          metadata: {
            ...pod.metadata,
            annotations: { ...pod.metadata.annotations, [configSeenAnnotation]: seenAt },
          },
        };
      }),
    );
    this.seen = seen;
  }

  /** Reads the URL once, then again every `checkFrequencyMs` until {@link stop}; never rejects (failures go to onError). */
  async start(): Promise<void> {
    await this.check();
    const tick = () => {
      if (this.stopped) return;
      this.timer = this.clock.setTimeout(() => {
        void this.check().finally(tick);
      }, this.options.checkFrequencyMs);
      unrefTimer(this.timer);
    };
    tick();
  }

  /** Stops polling; a read in flight still hands its pods over. */
  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
