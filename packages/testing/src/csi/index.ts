// @nodeagent/testing/csi: a CSI node plugin, a driver registrar and a private mount namespace for kubelet tests.
export { parseCsiExchange, withRootDirPlaceholder } from './csi-exchange';
export { type CsiVolumeMounter, directoryOnlyMounter } from './csi-volume-mounter';
export { type DriverRegistrar, type DriverRegistrarOptions, startDriverRegistrar } from './driver-registrar';
export {
  type CsiFault,
  FakeCsiPlugin,
  type FakeCsiPluginOptions,
  type RecordedCsiCall,
} from './fake-csi-plugin';
export { MountNamespace } from './mount-namespace';
