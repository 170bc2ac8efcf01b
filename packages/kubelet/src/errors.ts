import { errorPredicate, FieldError, withCode } from '@nodeagent/primitives';

/**
 * Every error this package throws carries a stable `code` and the offending field and value, so
 * callers (and pod status messages) can say exactly what was wrong without parsing text.
 */
export class KubeletError extends FieldError {}

/** A configuration file or flag value that does not satisfy KubeletConfiguration's rules. */
export class InvalidConfigError extends KubeletError {
  /** Every problem found when several fields were wrong at once (this error is the first). */
  readonly causes: InvalidConfigError[];

  constructor(field: string, value: unknown, reason: string, causes: InvalidConfigError[] = []) {
    super('INVALID_CONFIG', field, value, reason);
    this.causes = causes;
  }
}

/** A pod spec the kubelet refuses to run (reported as pod status, never thrown out of a sync). */
export class InvalidPodSpecError extends withCode(KubeletError, 'INVALID_POD_SPEC') {}

/**
 * Building a container's config failed (missing configMap key, bad fieldRef...). Upstream reports
 * this as the container waiting with reason CreateContainerConfigError.
 */
export class CreateContainerConfigError extends withCode(KubeletError, 'CREATE_CONTAINER_CONFIG') {}

/** Setting up a volume failed (missing source, wrong hostPath type...). */
export class VolumeSetupError extends withCode(KubeletError, 'VOLUME_SETUP') {}

// The guards below also recognise an error thrown by the other build (ESM or CJS) of this package, where
// `instanceof` fails: errorPredicate matches the error's brand and class lineage as well.
/** Whether `e` is an InvalidConfigError (or a subclass), from either build of this package. */
export const isInvalidConfigError = errorPredicate(InvalidConfigError);
/** Whether `e` is an InvalidPodSpecError (or a subclass), from either build of this package. */
export const isInvalidPodSpecError = errorPredicate(InvalidPodSpecError);
/** Whether `e` is a CreateContainerConfigError (or a subclass), from either build of this package. */
export const isCreateContainerConfigError = errorPredicate(CreateContainerConfigError);
/** Whether `e` is a VolumeSetupError (or a subclass), from either build of this package. */
export const isVolumeSetupError = errorPredicate(VolumeSetupError);
