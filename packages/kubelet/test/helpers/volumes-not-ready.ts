import { expect } from 'vitest';
import { PodVolumesNotReadyError } from '../../src/volumes/volumes-not-ready';

/** The PodVolumesNotReadyError `promise` rejects with; the test fails if it resolves or rejects otherwise. */
export async function notReady(promise: Promise<unknown>): Promise<PodVolumesNotReadyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PodVolumesNotReadyError);
  return error as PodVolumesNotReadyError;
}
