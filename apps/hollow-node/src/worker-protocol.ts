// What the parent and its worker threads say to each other: plain data only. Control flows
// down (start these nodes, report, run a wave, stop); counts and status flow up.
import type { Morph } from './hollow-flags';
import type { CountsSnapshot } from './hollow-report';
import type { RestartWaveReport } from './restart-waves';

/** A worker's share of the run, given as its workerData. */
export interface WorkerSetup {
  /** Marks the thread as a hollow worker (the entry file is also the CLI's). */
  hollowWorker: true;
  /** The kubeconfig as YAML (a KubeConfig object does not cross threads). */
  kubeConfig: string;
  /** The share's first node index: its nodes are `<namePrefix><firstIndex + i>`. */
  firstIndex: number;
  nodes: number;
  namePrefix: string;
  maxPods?: number;
  morph: Morph;
  kubeletConfiguration?: Record<string, unknown>;
  startConcurrency: number;
  clientCertificates: boolean;
  restartPercent: number;
}

/** Parent to worker. `id` pairs a question with its answer. */
export type ToWorker =
  | { type: 'counts'; id: number }
  | { type: 'steady'; id: number }
  | { type: 'wave'; id: number }
  | { type: 'abort' }
  | { type: 'stop' };

/** Worker to parent. */
export type FromWorker =
  | { type: 'started'; nodes: number }
  | { type: 'log'; line: string }
  | { type: 'counts'; id: number; snapshot: CountsSnapshot }
  | { type: 'steady'; id: number }
  | { type: 'wave'; id: number; report?: RestartWaveReport; error?: string }
  | { type: 'stopped'; error?: string }
  | { type: 'failed'; error: string };
