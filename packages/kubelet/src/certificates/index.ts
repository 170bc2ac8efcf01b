// TLS bootstrapping and certificate rotation, as upstream's pkg/kubelet/certificate and
// k8s.io/client-go/util/certificate.
export { CertificateError } from './certificate-error';
export { CertificateManager, type CertificateManagerOptions } from './certificate-manager';
export { type CertificatePair, parseCertificatePair } from './certificate-pair';
export {
  type CertificateTemplate,
  digestedCsrName,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  makeCertificateRequestPem,
  nodeSubject,
} from './certificate-request';
export { CertificateFileStore, type CertificateStoreOptions } from './certificate-store';
export {
  bootstrappedKubeconfigYaml,
  type ClientBootstrapOptions,
  type ClientConfigBootstrapOptions,
  isClientConfigStillValid,
  loadClientCert,
  loadClientConfig,
} from './client-bootstrap';
export { requestCertificate, waitForCertificate } from './csr-client';
export { generatePrivateKeyPem } from './private-key';
export { rotationDeadline } from './rotation-deadline';
export { serveCurrentCertificate } from './serving-certificate';
