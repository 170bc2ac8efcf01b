import { type CreateNetnsOptions, createNetns, type Netns } from './netns';

/** Run `fn` with a fresh namespace that is deleted afterwards, whether `fn` throws or not. */
export async function withNetns<T>(
  fn: (netns: Netns) => Promise<T> | T,
  options?: CreateNetnsOptions,
): Promise<T> {
  const netns = await createNetns(options);
  try {
    return await fn(netns);
  } finally {
    await netns.delete();
  }
}

/**
 * A set of namespaces that live together (a client, a node, backends) and are deleted together:
 * make one in beforeAll, call cleanup() in afterAll.
 */
export class NetnsScope {
  private readonly members: Netns[] = [];

  constructor(private readonly purpose = 'test') {}

  /** A new namespace that cleanup() deletes with the others. */
  async create(options: CreateNetnsOptions = {}): Promise<Netns> {
    const netns = await createNetns({ purpose: this.purpose, ...options });
    this.members.push(netns);
    return netns;
  }

  get namespaces(): readonly Netns[] {
    return this.members;
  }

  /** Delete every member (all are tried even if one fails; the first failure is rethrown). */
  async cleanup(): Promise<void> {
    const members = this.members.splice(0);
    const results = await Promise.allSettled(members.map((netns) => netns.delete()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Run `fn` with a NetnsScope that is cleaned up afterwards. */
export async function withNetnsScope<T>(
  fn: (scope: NetnsScope) => Promise<T> | T,
  purpose?: string,
): Promise<T> {
  const scope = new NetnsScope(purpose);
  try {
    return await fn(scope);
  } finally {
    await scope.cleanup();
  }
}
