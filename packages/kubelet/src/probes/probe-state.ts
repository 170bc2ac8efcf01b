/**
 * Per-container probe and start state, from the probe manager; all optional. The prober answers
 * it and computePodActions reads it, so it lives with the probes, below the pod logic.
 */
export interface ProbeState {
  /** The liveness probe of this running container has failed past its threshold. */
  livenessFailed?(containerId: string): boolean;
  /** The startup probe of this running container has failed past its threshold. */
  startupFailed?(containerId: string): boolean;
  /** The container counts as started (no startup probe, or it succeeded). Defaults to running. */
  started?(containerId: string): boolean;
}
