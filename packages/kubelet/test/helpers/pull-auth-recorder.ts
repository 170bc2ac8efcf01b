import type { CriClient } from '@nodeagent/cri-client';

type PullImageRequest = Parameters<CriClient['pullImage']>[0];

/** The user name and password a PullImage carried, or null for an anonymous pull. */
export type PullAuth = Pick<NonNullable<PullImageRequest['auth']>, 'username' | 'password'> | null;

/**
 * Wraps `client.pullImage` to record the credentials of every pull it sends from now on, in
 * order: what the registry was offered, whichever source (pull secret, credential provider,
 * cache) supplied them. Empty the array in place (`length = 0`) to start over.
 */
export function recordPullAuths(client: CriClient): PullAuth[] {
  const auths: PullAuth[] = [];
  const pull = client.pullImage.bind(client);
  client.pullImage = (request) => {
    auths.push(request.auth ? { username: request.auth.username, password: request.auth.password } : null);
    return pull(request);
  };
  return auths;
}
