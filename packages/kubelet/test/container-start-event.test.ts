import { describe, expect, it } from 'vitest';
import type { Pod } from '../src/api/pod-types';
import { containerStartEvents } from '../src/sync/pod-syncer';
import { SyncStepError } from '../src/sync/sync-errors';

const pod: Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

describe('containerStartEvents (upstream startContainer events)', () => {
  it('prefixes the message with "Error: " under reason Failed, as events.FailedToCreateContainer', () => {
    const message =
      'container has runAsNonRoot and image will run as root (pod: "web_default(u1)", container: app)';
    expect(
      containerStartEvents(new SyncStepError('CreateContainerConfigError', 'app', message), pod, 'app'),
    ).toEqual([{ type: 'Warning', reason: 'Failed', message: `Error: ${message}` }]);
  });

  it("records the image manager's event, then Failed naming only the reason", () => {
    const never = 'Container image "x:1" is not present with pull policy of Never';
    expect(containerStartEvents(new SyncStepError('ErrImageNeverPull', 'app', never), pod, 'app')).toEqual([
      { type: 'Warning', reason: 'ErrImageNeverPull', message: never },
      { type: 'Warning', reason: 'Failed', message: 'Error: ErrImageNeverPull' },
    ]);
    // A pull failure: the status shows the error, the event names the image before it.
    const pull = 'rpc error: code = NotFound desc = not found';
    const pullEvent = `Failed to pull image "x:1": ${pull}`;
    expect(
      containerStartEvents(new SyncStepError('ErrImagePull', 'app', pull, undefined, pullEvent), pod, 'app'),
    ).toEqual([
      { type: 'Warning', reason: 'Failed', message: pullEvent },
      { type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' },
    ]);
    // The back-off status adds the last pull error; the event does not.
    const backOff = 'Back-off pulling image "x:1"';
    expect(
      containerStartEvents(
        new SyncStepError('ImagePullBackOff', 'app', `${backOff}: ErrImagePull: ${pull}`, undefined, backOff),
        pod,
        'app',
      ),
    ).toEqual([
      { type: 'Normal', reason: 'BackOff', message: backOff },
      { type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' },
    ]);
  });

  it('reports crash loops as BackOff in upstream words and post-start hook failures as FailedPostStartHook', () => {
    expect(
      containerStartEvents(
        new SyncStepError('CrashLoopBackOff', 'app', 'back-off 10s restarting failed container=app pod=web'),
        pod,
        'app',
      ),
    ).toEqual([
      {
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container app in pod web_default(u1)',
      },
    ]);
    // The hook's output stays out of the event (it may hold secrets), as upstream.
    expect(
      containerStartEvents(
        new SyncStepError(
          'PostStartHookError',
          'app',
          'Exec lifecycle hook ([x]) for Container "app" failed',
        ),
        pod,
        'app',
      ),
    ).toEqual([{ type: 'Warning', reason: 'FailedPostStartHook', message: 'PostStartHook failed' }]);
  });
});
