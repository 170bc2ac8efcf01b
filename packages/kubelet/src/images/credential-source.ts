/** Names one API object exactly: its namespace and name, and its UID so a recreated object does not count as it. */
export interface ObjectCoordinates {
  uid: string;
  namespace: string;
  name: string;
}

/**
 * Where a pull credential came from, as upstream's TrackedAuthConfig.Source records it: a pod's
 * pull secret (its coordinates) or the pod's service account (a credential provider's token
 * mode). Credentials without a source (node-wide ones) are usable by every pod on the node.
 */
export type CredentialSource = { secret: ObjectCoordinates } | { serviceAccount: ObjectCoordinates };
