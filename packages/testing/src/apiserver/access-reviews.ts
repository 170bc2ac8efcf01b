import type { UserInfo } from './user-info';

// What the in-process server knows to answer TokenReview and SubjectAccessReview: static bearer
// tokens (as kube-apiserver's --token-auth-file gives them) and RBAC-like grants (a ClusterRole
// and its ClusterRoleBinding in one, or a Role and RoleBinding with `namespace`). The wire side
// is in access-review-requests.ts.

/** kubeadm's --api-audiences (the service-account issuer): what an audience-agnostic token is valid for. */
export const API_AUDIENCES = ['https://kubernetes.default.svc.cluster.local'];

/** One rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  /** `nodes`, `nodes/proxy`, `*`, `*\/log` as RBAC matches them. */
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** A subject a grant binds: a user name or a group name. */
export interface GrantSubject {
  kind: 'User' | 'Group';
  name: string;
}

/**
 * A role and its binding under one name: `rules` for `subjects`. Without `namespace` it is a
 * ClusterRole bound by a ClusterRoleBinding (every namespace and cluster-scoped objects); with
 * one, a Role bound by a RoleBinding in that namespace.
 */
export interface AccessGrant {
  name: string;
  subjects: GrantSubject[];
  rules: PolicyRule[];
  namespace?: string;
}

/** SubjectAccessReviewSpec's resourceAttributes. */
export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** SubjectAccessReviewSpec as the server reads it. */
export interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
  user?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  uid?: string;
}

/** An authorizer's decision: allowed, and the reason RBAC gives for it. */
export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/** kube-apiserver's privileged group: its authorizer allows everything, with no reason. */
const MASTERS = 'system:masters';

const contains = (list: string[] | undefined, value: string): boolean =>
  (list ?? []).includes('*') || (list ?? []).includes(value);

/** RBAC's ResourceMatches: `*`, `resource/subresource` exactly, or `*\/subresource`. */
function resourceMatches(rule: PolicyRule, attributes: ResourceAttributes): boolean {
  const resource = attributes.resource ?? '';
  const subresource = attributes.subresource ?? '';
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== '' && r === `*/${subresource}`),
  );
}

/** RBAC's NonResourceURLMatches: `*`, the path exactly, or a prefix ending in `*`. */
function urlMatches(rule: PolicyRule, path: string): boolean {
  return (rule.nonResourceURLs ?? []).some(
    (u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1))),
  );
}

/** RBAC's RuleAllows for one review's attributes. */
function ruleAllows(rule: PolicyRule, spec: AccessReviewSpec): boolean {
  const attributes = spec.resourceAttributes;
  if (!attributes) {
    const nonResource = spec.nonResourceAttributes ?? {};
    return contains(rule.verbs, nonResource.verb ?? '') && urlMatches(rule, nonResource.path ?? '');
  }
  const names = rule.resourceNames ?? [];
  return (
    contains(rule.verbs, attributes.verb ?? '') &&
    contains(rule.apiGroups, attributes.group ?? '') &&
    resourceMatches(rule, attributes) &&
    (names.length === 0 || names.includes(attributes.name ?? ''))
  );
}

/** RBAC's binding describer: `ClusterRoleBinding "n" of ClusterRole "n" to User "u"`. */
function describe(grant: AccessGrant, subject: GrantSubject): string {
  const to = `${subject.kind} ${JSON.stringify(subject.name)}`;
  return grant.namespace === undefined
    ? `ClusterRoleBinding ${JSON.stringify(grant.name)} of ClusterRole ${JSON.stringify(grant.name)} to ${to}`
    : `RoleBinding ${JSON.stringify(`${grant.name}/${grant.namespace}`)} of Role ${JSON.stringify(grant.name)} to ${to}`;
}

/**
 * The tokens TokenReview authenticates and the grants SubjectAccessReview checks, set by tests
 * through `ApiServer.accessReviews`. Every SubjectAccessReview asked is kept in `asked`, in order.
 */
export class AccessReviews {
  private readonly tokens = new Map<string, UserInfo>();
  private readonly grants: AccessGrant[] = [];
  /** The spec of every SubjectAccessReview created, in order (clear it with `asked.length = 0`). */
  readonly asked: AccessReviewSpec[] = [];

  /**
   * A static token for `user` (username, optional uid, groups; `system:authenticated` is added
   * as kube-apiserver's authenticated-group adder does). Throws on an empty token or username.
   */
  addToken(token: string, user: { username: string; uid?: string; groups?: string[] }): void {
    if (token === '' || /\s/.test(token))
      throw new TypeError(`addToken: token: must be non-empty without spaces`);
    if (user.username === '') throw new TypeError(`addToken: username: must be non-empty`);
    const groups = [...(user.groups ?? [])];
    if (!groups.includes('system:authenticated')) groups.push('system:authenticated');
    this.tokens.set(token, { username: user.username, uid: user.uid ?? '', groups });
  }

  /** Adds a grant; a later grant with the same name and namespace replaces it. */
  grant(grant: AccessGrant): void {
    const at = this.grants.findIndex((g) => g.name === grant.name && g.namespace === grant.namespace);
    if (at >= 0) this.grants.splice(at, 1);
    this.grants.push(structuredClone(grant));
  }

  /** The user a static token names, if any. */
  userOfToken(token: string): UserInfo | undefined {
    return this.tokens.get(token);
  }

  /** Node-less, webhook-less kube-apiserver authorization: system:masters, then RBAC. */
  authorize(spec: AccessReviewSpec): AccessDecision {
    this.asked.push(structuredClone(spec));
    const groups = spec.groups ?? [];
    if (groups.includes(MASTERS)) return { allowed: true, reason: '' };
    const namespace = spec.resourceAttributes?.namespace ?? '';
    for (const grant of this.grants) {
      if (grant.namespace !== undefined && (!spec.resourceAttributes || grant.namespace !== namespace))
        continue;
      const subject = grant.subjects.find((s) =>
        s.kind === 'User' ? s.name === spec.user : groups.includes(s.name),
      );
      if (subject && grant.rules.some((rule) => ruleAllows(rule, spec)))
        return { allowed: true, reason: `RBAC: allowed by ${describe(grant, subject)}` };
    }
    return { allowed: false, reason: '' };
  }
}
