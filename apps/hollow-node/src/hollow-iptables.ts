import { FakeIptables } from '@nodeagent/netfilter/testing';

/**
 * The fake iptables of a long-running hollow node: the rules are kept (tests and operators read
 * them with saveText), but not every payload ever restored, which FakeIptables records for tests
 * and which would grow with every sync for the life of the process.
 */
export class HollowIptables extends FakeIptables {
  override async restore(...args: Parameters<FakeIptables['restore']>): ReturnType<FakeIptables['restore']> {
    try {
      return await super.restore(...args);
    } finally {
      this.restores.length = 0;
    }
  }

  override async restoreStream(
    ...args: Parameters<FakeIptables['restoreStream']>
  ): ReturnType<FakeIptables['restoreStream']> {
    try {
      return await super.restoreStream(...args);
    } finally {
      this.restores.length = 0;
      this.streams.length = 0;
    }
  }
}
