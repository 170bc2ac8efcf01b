import { errorPredicate, withCode } from '@nodeagent/primitives';
import { KubeletError } from '../errors';

/**
 * A static pod's status could not be written because its mirror pod does not exist (yet). The
 * status stays unwritten, so it goes out once the mirror pod is there (upstream's status manager
 * skips such a pod the same way and writes it on a later sync).
 */
export class MirrorPodMissingError extends withCode(KubeletError, 'MIRROR_POD_MISSING') {}

/** Whether an error is a {@link MirrorPodMissingError}, from either build (ESM or CJS) of this package. */
export const isMirrorPodMissingError = errorPredicate(MirrorPodMissingError);
