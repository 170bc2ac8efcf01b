import type { Pod, PodStatus } from '../api/pod-types';

/** Where pod statuses go: the API server's pods/status subresource. */
export interface PodStatusWriter {
  /** Patches pods/<name>/status; must fail if the object's uid differs. */
  patchStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** Deletes the pod object for good (grace period 0, uid precondition) once it is terminated. */
  deletePod?(pod: Pod): Promise<void>;
}

interface Entry {
  pod: Pod;
  status: PodStatus;
  /** JSON of the last status the API accepted. */
  written: string | undefined;
  writing: Promise<void> | undefined;
  dirty: boolean;
}

/**
 * Upstream status manager: remembers each pod's latest generated status and writes it to the API
 * server only when it changed (compared with what was last written), one write at a time per
 * pod, the newest status winning.
 */
export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly writer: PodStatusWriter | undefined;
  private readonly onError: (pod: Pod, error: unknown) => void;
  /** Number of API writes done (for tests and metrics). */
  writes = 0;

  constructor(options: { writer?: PodStatusWriter; onError?: (pod: Pod, error: unknown) => void } = {}) {
    this.writer = options.writer;
    this.onError = options.onError ?? (() => {});
  }

  getPodStatus(uid: string): PodStatus | undefined {
    return this.entries.get(uid)?.status;
  }

  setPodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? '';
    let entry = this.entries.get(uid);
    if (!entry) {
      entry = {
        pod,
        status,
        written: pod.status ? JSON.stringify(pod.status) : undefined,
        writing: undefined,
        dirty: false,
      };
      this.entries.set(uid, entry);
    }
    entry.pod = pod;
    entry.status = status;
    if (JSON.stringify(status) === entry.written) return;
    entry.dirty = true;
    this.kick(entry);
  }

  /** Starts the write loop unless it runs; a status that lands while it winds down restarts it. */
  private kick(entry: Entry): void {
    if (entry.writing) return;
    const writing = this.write(entry).finally(() => {
      if (entry.writing === writing) entry.writing = undefined;
      if (entry.dirty) this.kick(entry);
    });
    entry.writing = writing;
  }

  /** Deletes the API object of a terminated pod (after its final status went out). */
  async deletePod(pod: Pod): Promise<void> {
    const entry = this.entries.get(pod.metadata.uid ?? '');
    await entry?.writing;
    if (this.writer?.deletePod) await this.writer.deletePod(pod);
  }

  removePod(uid: string): void {
    this.entries.delete(uid);
  }

  /** Resolves when every pending write finished (tests, shutdown). */
  async flush(): Promise<void> {
    for (;;) {
      const pending = [...this.entries.values()].map((e) => e.writing).filter((p) => p !== undefined);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  private async write(entry: Entry): Promise<void> {
    while (entry.dirty) {
      entry.dirty = false;
      const status = entry.status;
      const json = JSON.stringify(status);
      if (json === entry.written) continue;
      if (!this.writer) {
        entry.written = json;
        continue;
      }
      try {
        await this.writer.patchStatus(entry.pod, status);
        entry.written = json;
        this.writes++;
      } catch (error) {
        this.onError(entry.pod, error);
      }
    }
  }
}
