import { KubeProxyError } from '../errors';

/** IptablesSyncStream.result() was called before its chunks were all consumed. */
export class SyncStreamNotFinishedError extends KubeProxyError {
  constructor() {
    super('SYNC_STREAM_NOT_FINISHED', 'the full-sync stream has not produced its last chunk yet');
  }
}
