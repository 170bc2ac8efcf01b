/**
 * On the host (whose kernel has no IPVS): a handle opened in a fresh network namespace reports
 * IpvsUnavailableError through the namespace relay, and a bad path is rejected up front.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IpvsUnavailableError, openIpvs } from '../../src/index';
import { InvalidFieldError } from '../../src/netlink/index';

const ns = `na-ipvs-host-${process.pid}-${randomBytes(3).toString('hex')}`;

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', ns]);
});
afterAll(() => {
  execFileSync('ip', ['netns', 'del', ns]);
});

describe('openIpvs({ netnsPath }) on a kernel without IPVS', () => {
  it('reports IpvsUnavailableError from inside the namespace', async () => {
    const err = await openIpvs({ netnsPath: `/run/netns/${ns}` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpvsUnavailableError);
    expect((err as IpvsUnavailableError).code).toBe('IPVS_UNAVAILABLE');
  });

  it('reports IpvsUnavailableError in its own namespace too', async () => {
    await expect(openIpvs()).rejects.toBeInstanceOf(IpvsUnavailableError);
  });

  it('rejects a namespace path that does not exist', async () => {
    const err = await openIpvs({ netnsPath: `/run/netns/${ns}-missing` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFieldError);
    expect((err as InvalidFieldError).field).toBe('netnsPath');
  });
});
