// @nodeagent/testing/dra: a DRA kubelet plugin (upstream's test driver's answers), its recorded
// exchange's parser and the CDI spec helpers, for kubelet tests.
export { CDI_VERSION, cdiDeviceId, cdiDeviceName, cdiKind, cdiSpecPath } from './cdi-spec';
export {
  type CanonicalMessage,
  type CanonicalValue,
  canonicalMessage,
  type DraExchangeEntry,
  parseDraExchange,
  parseProtoText,
} from './dra-exchange';
export {
  DRA_SUPPORTED_VERSIONS,
  type DraFault,
  type DraFaultMethod,
  FakeDraPlugin,
  type FakeDraPluginOptions,
  type RecordedDraCall,
} from './fake-dra-plugin';
export { type PublishedDevice, ResourceSlicePublisher } from './resource-slice-publisher';
