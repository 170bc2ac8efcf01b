import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, systemClock } from '@nodeagent/primitives';
import { configHashAnnotation, configSeenAnnotation, configSourceAnnotation } from '../api/config-source';
import type { Pod } from '../api/pod-types';
import { unrefTimer } from '../clock-timers';
import { parseBoundedYamlDocuments } from '../config/bounded-yaml';
import { InvalidPodSpecError } from '../errors';
import { refuseStaticPodApiReferences } from './static-pod-api-references';

/** A manifest in the static pod directory that could not be read as a Pod; the other files still count. */
export interface StaticPodFileError {
  /** The manifest's path. */
  file: string;
  /** Why: a read error, YAML error or InvalidPodSpecError. */
  error: Error;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** Where a static pod came from: a manifest file, or the staticPodURL. */
export type StaticPodOrigin = { file: string } | { url: string };

/**
 * Upstream config.applyDefaults for static pods: namespace "default", the node name appended to
 * the pod name, a uid hashed from the manifest and its origin (node and file, or the URL: the
 * same manifest keeps its uid across restarts, an edit makes a new pod), the config.*
 * annotations (source "file" or "http"), spec.nodeName, and for file pods the NoExecute
 * toleration that keeps them on a node with problems.
 */
export function staticPodDefaultsFrom(
  manifest: Pod,
  nodeName: string,
  origin: StaticPodOrigin,
  seenAt: string,
): Pod {
  const hash = createHash('md5');
  hash.update(stableJson(manifest));
  if ('file' in origin) {
    hash.update(`host:${nodeName}`);
    hash.update(`file:${origin.file}`);
  } else hash.update(`url:${origin.url}`);
  const uid = hash.digest('hex');
  const name = manifest.metadata?.name ?? '';
  // PodSpec does not type tolerations (the kubelet itself never reads them): they pass through.
  const tolerations = (manifest.spec as { tolerations?: Toleration[] } | undefined)?.tolerations ?? [];
  const noExecute: Toleration = { operator: 'Exists', effect: 'NoExecute' };
  // Upstream AddOrUpdateTolerationInPod: an equal toleration (key, operator, value, effect) is kept.
  const hasNoExecute = tolerations.some(
    (t) => !t.key && t.operator === 'Exists' && !t.value && t.effect === 'NoExecute',
  );
  return {
    ...manifest,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...manifest.metadata,
      name: `${name}-${nodeName.toLowerCase()}`,
      namespace: manifest.metadata?.namespace || 'default',
      uid,
      annotations: {
        ...(manifest.metadata?.annotations ?? {}),
        [configHashAnnotation]: uid,
        [configSourceAnnotation]: 'file' in origin ? 'file' : 'http',
        [configSeenAnnotation]: seenAt,
      },
    },
    spec: {
      ...manifest.spec,
      nodeName,
      ...('file' in origin && !hasNoExecute ? { tolerations: [...tolerations, noExecute] } : {}),
    },
  };
}

/** staticPodDefaultsFrom for a manifest file. */
export function staticPodDefaults(manifest: Pod, nodeName: string, file: string, seenAt: string): Pod {
  return staticPodDefaultsFrom(manifest, nodeName, { file }, seenAt);
}

/**
 * Reads every manifest in the static pod directory (hidden files are skipped, like upstream).
 * A file that is not a Pod is reported, not fatal.
 */
export async function readStaticPods(
  dir: string,
  nodeName: string,
  seenAt: string,
): Promise<{ pods: Pod[]; errors: StaticPodFileError[] }> {
  const pods: Pod[] = [];
  const errors: StaticPodFileError[] = [];
  let entries: string[];
  try {
    entries = (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { pods, errors };
    throw error;
  }
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    const file = join(dir, entry);
    try {
      const text = await readFile(file, 'utf8');
      for (const object of parseBoundedYamlDocuments(text) as (Pod | null)[]) {
        if (object === null) continue;
        if (object.kind !== 'Pod' || !object.metadata?.name || !object.spec) {
          throw new InvalidPodSpecError(
            'kind',
            object?.kind,
            'a static pod manifest must be a Pod with metadata.name and spec',
          );
        }
        refuseStaticPodApiReferences(object);
        pods.push(staticPodDefaults(object, nodeName, file, seenAt));
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EISDIR') continue;
      errors.push({ file, error: error as Error });
    }
  }
  return { pods, errors };
}

/** Which directory {@link StaticPodSource} polls, how often, and where it hands the pods. */
export interface StaticPodSourceOptions {
  /** KubeletConfiguration.staticPodPath; a missing directory holds no pods. */
  dir: string;
  /** The node name appended to each pod's name (`<name>-<node>`) and set as spec.nodeName. */
  nodeName: string;
  /** KubeletConfiguration.fileCheckFrequency in ms (upstream 20 s). */
  checkFrequencyMs: number;
  /** The clock the polls wait on (default: the system clock). */
  clock?: Clock;
  /** The full set of file pods after each read (an unchanged manifest yields an unchanged pod). */
  onPods: (pods: Pod[]) => void;
  /**
   * One call per manifest that could not be read as a Pod, and one per poll whose directory could
   * not be read (then `file` is the directory and the pods from the last good read stand).
   */
  onError?: (error: StaticPodFileError) => void;
  /** The time stamped as a new pod's config.seen annotation (default: the wall clock). */
  now?: () => Date;
}

/** Polls the static pod directory and hands the full set of file pods to the kubelet. */
export class StaticPodSource {
  private timer: unknown;
  private seen = new Map<string, string>();

  constructor(private readonly options: StaticPodSourceOptions) {}

  private get clock(): Clock {
    return this.options.clock ?? systemClock;
  }

  /**
   * Reads the directory once, hands the pods to onPods and returns them. Rejects only when the
   * directory itself cannot be read for a reason other than not existing.
   */
  async check(): Promise<Pod[]> {
    const now = (this.options.now ?? (() => new Date()))().toISOString();
    const { pods, errors } = await readStaticPods(this.options.dir, this.options.nodeName, now);
    for (const error of errors) this.options.onError?.(error);
    // Keep the first-seen time per uid so an unchanged manifest yields an unchanged pod. Only
    // this read's uids are kept: every edit makes a new uid, and a pod no longer read is gone.
    const seen = new Map<string, string>();
    const stable = pods.map((pod) => {
      const uid = pod.metadata.uid!;
      const seenAt = this.seen.get(uid) ?? now;
      seen.set(uid, seenAt);
      return {
        ...pod,
        metadata: {
          ...pod.metadata,
          annotations: { ...pod.metadata.annotations, [configSeenAnnotation]: seenAt },
        },
      };
    });
    this.seen = seen;
    this.options.onPods(stable);
    return stable;
  }

  /** Reads once (rejecting as {@link check} does), then again every `checkFrequencyMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.check();
    const tick = () => {
      this.timer = this.clock.setTimeout(() => {
        // A directory that became unreadable is reported and polled again, as upstream's file
        // source logs "Unable to read config path" and keeps the pods it had.
        void this.check()
          .catch((error: unknown) =>
            this.options.onError?.({ file: this.options.dir, error: asError(error) }),
          )
          .finally(tick);
      }, this.options.checkFrequencyMs);
      unrefTimer(this.timer);
    };
    tick();
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
