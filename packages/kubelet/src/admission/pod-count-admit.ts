import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';

/** Upstream's resource predicate for `pods`: beyond maxPods a new pod is refused with OutOfpods. */
export function podCountAdmitHandler(capacity: number): PodAdmitHandler {
  return {
    admit({ otherPods }: PodAdmitAttributes): PodAdmitResult {
      const used = otherPods.length;
      if (used + 1 <= capacity) return admitted;
      return {
        admit: false,
        reason: 'OutOfpods',
        message: `Node didn't have enough resource: pods, requested: 1, used: ${used}, capacity: ${capacity}`,
      };
    },
  };
}
