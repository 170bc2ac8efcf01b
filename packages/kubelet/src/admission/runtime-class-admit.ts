import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';
import { failedCreatePodSandBox } from './runtime-feature-admit';

/**
 * A RuntimeClass names another CRI runtime handler (gVisor, Kata, ...), often chosen for stronger
 * isolation. Upstream looks the RuntimeClass up and passes its handler to RunPodSandbox; this
 * kubelet runs every sandbox with the default handler, so running such a pod would silently drop
 * that isolation. It is refused instead, with the reason upstream reports when a sandbox cannot be
 * created for its RuntimeClass.
 */
export const runtimeClassAdmitHandler: PodAdmitHandler = {
  admit({ pod }: PodAdmitAttributes): PodAdmitResult {
    const name = pod.spec.runtimeClassName;
    if (!name) return admitted;
    return {
      admit: false,
      reason: failedCreatePodSandBox,
      message: `RuntimeClass ${JSON.stringify(name)} cannot be honoured: this kubelet runs every pod with the runtime's default handler`,
    };
  },
};
