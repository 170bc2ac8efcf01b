/** Who sent a request, as kube-apiserver's authenticators describe the user. */
export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}
