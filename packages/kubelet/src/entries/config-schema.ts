// @nodeagent/kubelet/config-schema: KubeletConfiguration as a zod schema built once, when this
// entry point loads, and kept for the process's lifetime (~1.5 MiB of V8 heap). Apart from
// /config so that loading /config builds nothing: parseKubeletConfiguration builds its own schema
// on demand and lets it go, and buildKubeletConfigurationSchema() (/config) makes a fresh one.
export { kubeletConfigurationSchema } from '../config/kubelet-configuration-schema';
