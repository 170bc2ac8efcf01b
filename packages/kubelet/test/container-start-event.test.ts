import { describe, expect, it } from 'vitest';
import { containerStartEvent } from '../src/sync/pod-syncer';
import { SyncStepError } from '../src/sync/sync-errors';

describe('containerStartEvent (upstream startContainer events)', () => {
  it('prefixes the message with "Error: " under reason Failed, as events.FailedToCreateContainer', () => {
    const message =
      'container has runAsNonRoot and image will run as root (pod: "web_default(u1)", container: app)';
    expect(containerStartEvent(new SyncStepError('CreateContainerConfigError', 'app', message))).toEqual({
      reason: 'Failed',
      message: `Error: ${message}`,
    });
    expect(containerStartEvent(new SyncStepError('ImagePullBackOff', 'app', 'ImagePullBackOff'))).toEqual({
      reason: 'Failed',
      message: 'Error: ImagePullBackOff',
    });
  });

  it('reports crash loops as BackOff and post-start hook failures as FailedPostStartHook', () => {
    expect(containerStartEvent(new SyncStepError('CrashLoopBackOff', 'app', 'back-off 10s'))).toEqual({
      reason: 'BackOff',
      message: 'back-off 10s',
    });
    expect(
      containerStartEvent(new SyncStepError('PostStartHookError', 'app', 'PostStartHook failed')).reason,
    ).toBe('FailedPostStartHook');
  });
});
