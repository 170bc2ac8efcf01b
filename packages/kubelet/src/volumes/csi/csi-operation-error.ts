import { isCsiError } from '@nodeagent/csi-client';
import { CodedError } from '@nodeagent/primitives';

/** The volume operation a CSI failure belongs to, as upstream's operation generator names it in events. */
export type CsiVolumeOperation =
  | 'MountVolume.NodeAffinity check'
  | 'MountVolume.MountOptionSupport check'
  | 'MountVolume.NewMounter initialization'
  | 'MapVolume.NodeAffinity check'
  | 'MountVolume.MountDevice'
  | 'MountVolume.SetUp'
  | 'MapVolume.SetUpDevice'
  | 'MapVolume.MapPodDevice'
  | 'MapVolume.MapBlockVolume'
  | 'MapVolume.FindMapperPluginBySpec';

/**
 * A failed CSI mount step, carrying what upstream's FailedMount event says: the operation, the
 * volume's spec name (a claim's PersistentVolume name, an inline volume's own name) and the
 * driver's error as gRPC prints it. `uncertain` is upstream's "operation not finished" (the driver
 * timed out or went away mid-call): it may have mounted, so teardown still asks it to undo.
 */
export class CsiVolumeOperationError extends CodedError {
  constructor(
    readonly operation: CsiVolumeOperation,
    readonly volumeName: string,
    message: string,
    readonly uncertain: boolean,
    options?: ErrorOptions,
  ) {
    super('CSI_VOLUME_OPERATION_FAILED', message, options);
  }

  /** The event text: `MountVolume.SetUp failed for volume "<name>" : <error>` (FailedMount or FailedMapVolume). */
  get event(): string {
    return `${this.operation} failed for volume ${JSON.stringify(this.volumeName)} : ${this.message}`;
  }
}

/** gRPC codes upstream's csi_client takes as "not finished" (isFinalError is false for them). */
const NOT_FINAL = new Set(['CANCELLED', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED']);

/** Go's spelling of a gRPC status name (`DeadlineExceeded`). */
function goCode(code: string): string {
  if (code === 'CANCELLED') return 'Canceled';
  return code.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _s, c: string) => c.toUpperCase());
}

/**
 * `error` from a CSI call as the operation's error: a driver's gRPC error reads
 * `rpc error: code = <Code> desc = <details>` as upstream's events carry it (a deadline as
 * `context deadline exceeded`, Go's text); anything else keeps its message.
 */
export function csiOperationError(
  operation: CsiVolumeOperation,
  volumeName: string,
  error: unknown,
): CsiVolumeOperationError {
  if (error instanceof CsiVolumeOperationError) return error;
  if (isCsiError(error)) {
    const details = error.code === 'DEADLINE_EXCEEDED' ? 'context deadline exceeded' : error.details;
    return new CsiVolumeOperationError(
      operation,
      volumeName,
      `rpc error: code = ${goCode(error.code)} desc = ${details}`,
      NOT_FINAL.has(error.code),
      { cause: error },
    );
  }
  return new CsiVolumeOperationError(operation, volumeName, (error as Error).message, false, {
    cause: error,
  });
}
