import { invalid, type StatusCause } from './api-error';
import { parseCertificateRequest } from './csr-x509';
import type { KubeObject } from './kube-object';
import type { UserInfo } from './user-info';

export const CSR_KIND = 'CertificateSigningRequest';
const GROUP = 'certificates.k8s.io';

/** certificates.k8s.io/v1 KeyUsage values (the API's enum). */
export const KEY_USAGES = [
  'signing',
  'digital signature',
  'content commitment',
  'key encipherment',
  'key agreement',
  'data encipherment',
  'cert sign',
  'crl sign',
  'encipher only',
  'decipher only',
  'any',
  'server auth',
  'client auth',
  'code signing',
  'email protection',
  's/mime',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'timestamping',
  'ocsp signing',
  'microsoft sgc',
  'netscape sgc',
];

export interface CsrCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
}

export interface CsrSpec {
  request: string;
  signerName: string;
  usages?: string[];
  expirationSeconds?: number;
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface CsrStatus {
  conditions?: CsrCondition[];
  certificate?: string;
}

export const csrSpec = (o: KubeObject): CsrSpec => (o.spec ?? {}) as CsrSpec;
export const csrStatus = (o: KubeObject): CsrStatus => (o.status ?? {}) as CsrStatus;

function hasCondition(status: CsrStatus, type: string): boolean {
  return (status.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}
export const isApproved = (o: KubeObject) => hasCondition(csrStatus(o), 'Approved');
export const isDenied = (o: KubeObject) => hasCondition(csrStatus(o), 'Denied');
export const isFailed = (o: KubeObject) => hasCondition(csrStatus(o), 'Failed');

/** A signer name must be a qualified name with a domain prefix: "example.com/signer". */
const SIGNER_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?(\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)*$/;

/**
 * What the API server does on create (csrStrategy.PrepareForCreate + validation): the requester's
 * identity goes into spec.username/uid/groups/extra whatever the client sent, status is cleared,
 * and the request, signerName, usages and expirationSeconds are checked with upstream's messages.
 */
export function prepareCsrForCreate(obj: KubeObject, user: UserInfo): KubeObject {
  const spec = { ...csrSpec(obj) };
  spec.username = user.username;
  spec.uid = user.uid;
  spec.groups = [...user.groups];
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  else delete spec.extra;
  const out: KubeObject = { ...obj, spec, status: {} };
  const causes: StatusCause[] = [];
  const request = typeof spec.request === 'string' ? Buffer.from(spec.request, 'base64').toString() : '';
  if (!request)
    causes.push({ reason: 'FieldValueRequired', field: 'spec.request', message: 'Required value' });
  else {
    try {
      parseCertificateRequest(request);
    } catch (error) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'spec.request',
        message: `Invalid value: []byte{...}: ${(error as Error).message}`,
      });
    }
  }
  if (!spec.signerName)
    causes.push({ reason: 'FieldValueRequired', field: 'spec.signerName', message: 'Required value' });
  else if (!SIGNER_NAME.test(spec.signerName))
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.signerName',
      message: `Invalid value: ${JSON.stringify(spec.signerName)}: must be a fully qualified domain and path of the form 'example.com/signer-name'`,
    });
  if (!spec.usages || spec.usages.length === 0)
    causes.push({ reason: 'FieldValueRequired', field: 'spec.usages', message: 'Required value' });
  (spec.usages ?? []).forEach((usage, i) => {
    if (!KEY_USAGES.includes(usage))
      causes.push({
        reason: 'FieldValueNotSupported',
        field: `spec.usages[${i}]`,
        message: `Unsupported value: ${JSON.stringify(usage)}: supported values: ${KEY_USAGES.map((u) => JSON.stringify(u)).join(', ')}`,
      });
  });
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds < 600)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.expirationSeconds',
      message: `Invalid value: ${spec.expirationSeconds}: may not specify a duration less than 600 seconds (10 minutes)`,
    });
  if (causes.length > 0) throw invalid(CSR_KIND, GROUP, String(obj.metadata.name ?? ''), causes);
  return out;
}

/**
 * Upstream's populateConditionTimestamps: a condition without lastUpdateTime gets now; one without
 * lastTransitionTime keeps the old one of the same type and status, or gets now.
 */
function withTimestamps(conditions: CsrCondition[], before: CsrCondition[], now: Date): CsrCondition[] {
  const stamp = `${now.toISOString().slice(0, 19)}Z`;
  return conditions.map((c) => ({
    ...c,
    lastUpdateTime: c.lastUpdateTime || stamp,
    lastTransitionTime:
      c.lastTransitionTime ||
      before.find((o) => o.type === c.type && o.status === c.status && o.lastTransitionTime)
        ?.lastTransitionTime ||
      stamp,
  }));
}

/** Approved and Denied: the conditions only the approval subresource may set. */
const APPROVAL_TYPES = ['Approved', 'Denied'];

/**
 * The status after a write to `subresource` (csrStatusStrategy / csrApprovalStrategy): /approval
 * changes Approved and Denied conditions only and keeps the certificate; /status changes the
 * certificate and other conditions and keeps Approved and Denied; the main resource changes
 * neither. Validation as upstream: Approved and Denied exclude each other, neither may be removed,
 * and an issued certificate may not change.
 */
export function csrStatusForUpdate(
  old: KubeObject,
  incoming: KubeObject,
  subresource: string | undefined,
  now: Date = new Date(),
): CsrStatus {
  const before = csrStatus(old);
  const sent = (incoming.status ?? {}) as CsrStatus;
  const name = String(old.metadata.name ?? '');
  if (subresource !== 'approval' && subresource !== 'status') return before;
  const oldConditions = before.conditions ?? [];
  const newConditions = sent.conditions ?? [];
  let conditions: CsrCondition[];
  let certificate = before.certificate;
  if (subresource === 'approval') {
    conditions = [
      ...newConditions.filter((c) => APPROVAL_TYPES.includes(c.type)),
      ...oldConditions.filter((c) => !APPROVAL_TYPES.includes(c.type)),
    ];
  } else {
    conditions = [
      ...oldConditions.filter((c) => APPROVAL_TYPES.includes(c.type)),
      ...newConditions.filter((c) => !APPROVAL_TYPES.includes(c.type)),
    ];
    certificate = sent.certificate;
  }
  const causes: StatusCause[] = [];
  const has = (list: CsrCondition[], type: string) =>
    list.some((c) => c.type === type && c.status === 'True');
  if (has(conditions, 'Approved') && has(conditions, 'Denied'))
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'status.conditions',
      message: 'Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
    });
  for (const type of APPROVAL_TYPES)
    if (has(oldConditions, type) && !has(conditions, type))
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'status.conditions',
        message: `Forbidden: updates may not remove a condition of type "${type}"`,
      });
  if (before.certificate && certificate !== before.certificate)
    causes.push({
      reason: 'FieldValueForbidden',
      field: 'status.certificate',
      message: 'Forbidden: updates may not modify existing certificate content',
    });
  if (causes.length > 0) throw invalid(CSR_KIND, GROUP, name, causes);
  const status: CsrStatus = {};
  if (conditions.length > 0) status.conditions = withTimestamps(conditions, oldConditions, now);
  if (certificate) status.certificate = certificate;
  return status;
}

/** The CONDITION column of `kubectl get csr` (upstream's extractCSRStatus). */
export function csrConditionText(o: KubeObject): string {
  let text = isDenied(o) ? 'Denied' : isApproved(o) ? 'Approved' : 'Pending';
  if (isFailed(o)) text += ',Failed';
  if (csrStatus(o).certificate) text += ',Issued';
  return text;
}

/** The REQUESTEDDURATION column: spec.expirationSeconds as duration.HumanDuration prints it. */
export function csrRequestedDuration(o: KubeObject): string {
  const seconds = csrSpec(o).expirationSeconds;
  if (seconds === undefined) return '<none>';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
