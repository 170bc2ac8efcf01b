import type { ProbeResult, ProbeType } from './probe-types';

/** A change of a container's stored result for one probe type. */
export interface ProbeResultUpdate {
  probeType: ProbeType;
  containerId: string;
  podUID: string;
  result: ProbeResult;
  /** Output of the probe run that caused the change ('' for initial values). */
  message: string;
}

/** Called with each changed probe result. */
export type ProbeResultListener = (update: ProbeResultUpdate) => void;

/**
 * The latest result per container for one probe type, like the kubelet's results.Manager:
 * `set` notifies listeners only when the stored result actually changes.
 */
export class ResultsManager {
  private readonly results = new Map<string, ProbeResult>();
  private readonly listeners = new Set<ProbeResultListener>();

  constructor(readonly probeType: ProbeType) {}

  /** A container's current result, if it has one. */
  get(containerId: string): ProbeResult | undefined {
    return this.results.get(containerId);
  }

  /** Stores a result; listeners hear of it only when it differs from the stored one. */
  set(containerId: string, podUID: string, result: ProbeResult, message = ''): void {
    if (this.results.get(containerId) === result) return;
    this.results.set(containerId, result);
    const update: ProbeResultUpdate = { probeType: this.probeType, containerId, podUID, result, message };
    for (const listener of this.listeners) listener(update);
  }

  /** Forgets a container's result (it stopped or went away). */
  remove(containerId: string): void {
    this.results.delete(containerId);
  }

  /** Returns an unsubscribe function. */
  subscribe(listener: ProbeResultListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
