// TLS bootstrapping and certificate rotation, as upstream's pkg/kubelet/certificate and
// k8s.io/client-go/util/certificate.
export { CertificateError } from '../certificates/certificate-error';
export { CertificateManager, type CertificateManagerOptions } from '../certificates/certificate-manager';
export { type CertificatePair, parseCertificatePair } from '../certificates/certificate-pair';
export {
  type CertificateTemplate,
  digestedCsrName,
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBELET_CLIENT_USAGES,
  KUBELET_SERVING_SIGNER,
  KUBELET_SERVING_USAGES,
  makeCertificateRequestPem,
  nodeSubject,
} from '../certificates/certificate-request';
export { CertificateFileStore, type CertificateStoreOptions } from '../certificates/certificate-store';
export {
  bootstrappedKubeconfigYaml,
  type ClientBootstrapOptions,
  type ClientConfigBootstrapOptions,
  isClientConfigStillValid,
  loadClientCert,
  loadClientConfig,
} from '../certificates/client-bootstrap';
export {
  type ClientCertificateExpiryOptions,
  watchClientCertificateExpiry,
} from '../certificates/client-certificate-expiry';
export {
  type CertificateSigningRequestInput,
  type CertificateWaitOptions,
  requestCertificate,
  waitForCertificate,
} from '../certificates/csr-client';
export { generatePrivateKeyPem } from '../certificates/private-key';
export { rotationDeadline } from '../certificates/rotation-deadline';
export { serveCurrentCertificate } from '../certificates/serving-certificate';
