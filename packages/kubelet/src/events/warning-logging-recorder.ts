import { podName } from '../api/pod-name';
import type { KubeletLogger } from '../kubelet-logger';
import type { PodEventRecorder } from './event-reasons';

/**
 * A pod event recorder that also logs each Warning event (pod and reason, the event's message),
 * then hands every event to `record` (upstream's recorder) when there is one.
 */
export function warningLoggingRecorder(logger: KubeletLogger, record?: PodEventRecorder): PodEventRecorder {
  return (pod, type, reason, message, fieldPath) => {
    if (type === 'Warning') logger.warn({ pod: podName(pod), reason }, message);
    record?.(pod, type, reason, message, fieldPath);
  };
}
