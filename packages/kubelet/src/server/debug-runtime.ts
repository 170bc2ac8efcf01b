import type { CriClient } from '@nodeagent/cri-client';

/** What CRI ExecSync answered: the command's exit code and its captured output. */
export interface ExecSyncOutput {
  /** The command's exit code (0 is success). */
  exitCode: number;
  /** What it wrote to stdout. */
  stdout: Buffer;
  /** What it wrote to stderr. */
  stderr: Buffer;
}

/** A CRI CheckpointContainerRequest as the kubelet makes it for /checkpoint. */
export interface CheckpointRequest {
  /** The runtime's container ID. */
  containerId: string;
  /** The checkpoint archive the runtime writes (under <rootDir>/checkpoints). */
  location: string;
  /** The `timeout` query parameter in seconds; 0 when absent (the CRI request timeout is used). */
  timeout: number;
}

/**
 * The runtime calls behind the kubelet server's /run and /checkpoint endpoints: CRI ExecSync
 * (no timeout, as upstream's RunInContainer asks) and CRI CheckpointContainer. A refused call
 * rejects with the client's error (a `CriError` for the runtime's own refusals).
 */
export interface ContainerDebugRuntime {
  /** CRI ExecSync without a timeout; `signal` cancels it (the caller went away). */
  execSync(containerId: string, cmd: string[], signal?: AbortSignal): Promise<ExecSyncOutput>;
  /** CRI CheckpointContainer, with upstream's handling of the timeout (see {@link criDebugRuntime}). */
  checkpointContainer(request: CheckpointRequest): Promise<void>;
}

/** Upstream's remote runtime refuses a negative checkpoint timeout before calling the runtime. */
export const negativeCheckpointTimeout = 'CheckpointContainer requires the timeout value to be > 0';

/**
 * {@link ContainerDebugRuntime} over a CRI client, as upstream's remote runtime service calls
 * it: ExecSync with timeout 0 and no deadline; CheckpointContainer refused for a negative
 * timeout, otherwise sent with the larger of the requested timeout and the CRI request timeout
 * (`requestTimeoutSeconds`, runtimeRequestTimeout: 2 minutes by default), which is also its
 * deadline.
 */
export function criDebugRuntime(
  client: Pick<CriClient, 'execSync' | 'checkpointContainer'>,
  options: { requestTimeoutSeconds?: number } = {},
): ContainerDebugRuntime {
  const requestTimeout = options.requestTimeoutSeconds ?? 120;
  return {
    async execSync(containerId, cmd, signal) {
      const response = await client.execSync(
        { containerId, cmd, timeout: 0 },
        { timeoutMs: Number.POSITIVE_INFINITY, signal },
      );
      return {
        exitCode: response.exitCode,
        stdout: Buffer.from(response.stdout),
        stderr: Buffer.from(response.stderr),
      };
    },
    async checkpointContainer({ containerId, location, timeout }) {
      if (timeout < 0) throw new Error(negativeCheckpointTimeout);
      const seconds = Math.max(timeout, requestTimeout);
      await client.checkpointContainer(
        { containerId, location, timeout: seconds },
        { timeoutMs: seconds * 1000 },
      );
    },
  };
}
