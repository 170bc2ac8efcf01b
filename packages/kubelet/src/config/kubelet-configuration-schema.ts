import { buildKubeletConfigurationSchema } from './configuration-fields';

/**
 * kubelet.config.k8s.io/v1beta1 KubeletConfiguration as a zod schema (`.shape` lists the
 * top-level fields). The kubelet's own parser builds its schema on demand instead
 * (parseKubeletConfiguration): importing this module keeps one alive for the process's lifetime.
 */
export const kubeletConfigurationSchema = buildKubeletConfigurationSchema();
