// @nodeagent/kubelet/errors: the kubelet's typed errors (each names the field and the value) and
// their predicates. Its own entry point so a command line can tell a configuration error from
// another without loading the kubelet's engine (the root loads all of it).
export {
  CreateContainerConfigError,
  InvalidConfigError,
  InvalidPodSpecError,
  isCreateContainerConfigError,
  isInvalidConfigError,
  isInvalidPodSpecError,
  isVolumeSetupError,
  KubeletError,
  VolumeSetupError,
} from '../errors';
