import type { KubeConfig } from '@kubernetes/client-node';
import type { ApiServerUsageSource } from './api-server-usage';
import type { Morph } from './hollow-flags';
import type { HollowReport } from './hollow-report';
import type { RestartWaveReport } from './restart-waves';

/** What runHollowNodes starts. */
export interface HollowNodesOptions {
  kubeConfig: KubeConfig;
  nodes: number;
  /** Node names are `<namePrefix><i>` (default `hollow-node-`). */
  namePrefix?: string;
  /** Each node's maxPods (default 110). */
  maxPods?: number;
  /** Which halves each node runs (default both). */
  morph?: Morph;
  /**
   * KubeletConfiguration fields every node gets on top of the hollow defaults (tests shorten
   * nodeLeaseDurationSeconds so renewals come within a second).
   */
  kubeletConfiguration?: Record<string, unknown>;
  /** Where warnings and errors go, one JSON line each (default stderr). */
  log?: (line: string) => void;
  /** How many nodes start at once (default 10): a wave, not all N lists at the same instant. */
  startConcurrency?: number;
  /**
   * Aborted: no further wave starts (a thousand nodes take minutes to start); runHollowNodes
   * resolves with the nodes already up, which stop() stops as usual.
   */
  signal?: AbortSignal;
  /**
   * Each node gets its own client certificate (CN system:node:<name>, O system:nodes) through a
   * CSR sent with `kubeConfig`'s credentials, as the kubelet's TLS bootstrap does, and talks to
   * the API server with it (default false: every node uses `kubeConfig`'s credentials).
   */
  clientCertificates?: boolean;
  /** Run a restart wave this often once every node is up (default: never; restartWave() runs one). */
  restartEveryMs?: number;
  /** Share of the nodes a restart wave restarts, in percent (default 10). */
  restartPercent?: number;
  /** Where the API server's CPU and watches are read (default: its /metrics with `kubeConfig`). */
  apiServerUsage?: ApiServerUsageSource;
  /**
   * Spread the nodes over this many worker threads, each with its own event loop (default 0: all
   * in this thread, where `nodes` and `counter` can be read). With workers, `workerEntry` is needed.
   */
  workers?: number;
  /**
   * The script a worker thread runs: one that calls `runHollowWorker()` when
   * `isHollowWorkerThread()` (the nodeagent-hollow-node entry does). A `.ts` file (the sources)
   * is loaded through tsx with the `@nodeagent/source` condition.
   */
  workerEntry?: string;
  /** The first node's index (default 0): node i is `<namePrefix><firstIndex + i>` (a worker's share). */
  firstIndex?: number;
}

/** Running hollow nodes, in this thread or in worker threads: what the parent controls. */
export interface HollowNodesControl {
  /** How many nodes are up (in every thread). */
  readonly nodeCount: number;
  /** The report so far (reads the API server's usage). */
  report(): Promise<HollowReport>;
  /** Runs one restart wave now (after any wave under way) and reports it. */
  restartWave(): Promise<RestartWaveReport>;
  /**
   * No further restart wave starts; resolves when the one under way (if any) has ended, so that
   * a report taken next has it whole. stop() does this first too.
   */
  endRestartWaves(): Promise<void>;
  /** Stops every node; each is stopped even when another's stop fails. */
  stop(): Promise<void>;
}
