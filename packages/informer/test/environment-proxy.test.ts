import { isCodedError } from '@nodeagent/primitives';
import { afterEach, describe, expect, it } from 'vitest';
import { environmentProxyFor, forgetEnvironmentProxies } from '../src/environment-proxy';

const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

function withEnvironment(values: Record<string, string>): void {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
  forgetEnvironmentProxies();
}

afterEach(() => withEnvironment({}));

describe("the environment's proxy, as Go's ProxyFromEnvironment chooses it", () => {
  it('HTTPS_PROXY for https, HTTP_PROXY for http, upper case before lower; a bare host:port is http', () => {
    withEnvironment({
      HTTPS_PROXY: 'proxy.example:3128',
      https_proxy: 'http://other:1',
      http_proxy: 'http://plain:8080',
    });
    expect(environmentProxyFor('https://api.example:6443')).toBe('http://proxy.example:3128/');
    expect(environmentProxyFor('http://api.example:8080')).toBe('http://plain:8080/');
    withEnvironment({ HTTP_PROXY: 'http://plain:8080' });
    // No fallback from https to HTTP_PROXY.
    expect(environmentProxyFor('https://api.example:6443')).toBeUndefined();
  });

  it('never for localhost or a loopback address', () => {
    withEnvironment({ HTTPS_PROXY: 'http://proxy:3128' });
    for (const server of [
      'https://localhost:6443',
      'https://127.0.0.1:6443',
      'https://127.9.9.9',
      'https://[::1]:6443',
    ])
      expect(environmentProxyFor(server), server).toBeUndefined();
    expect(environmentProxyFor('https://10.0.0.1:6443')).toBe('http://proxy:3128/');
  });

  it.each([
    ['*', 'https://api.example:6443', false],
    ['example', 'https://api.example:6443', false],
    ['api.example', 'https://api.example:6443', false],
    ['.example', 'https://api.example:6443', false],
    ['.api.example', 'https://api.example:6443', true],
    ['*.example', 'https://example:6443', true],
    ['other.example', 'https://api.example:6443', true],
    ['api.example:6443', 'https://api.example:6443', false],
    ['api.example:443', 'https://api.example:6443', true],
    ['api.example:443', 'https://api.example', false],
    ['10.0.0.0/8', 'https://10.1.2.3:6443', false],
    ['10.0.0.0/8', 'https://11.1.2.3:6443', true],
    ['10.1.2.3', 'https://10.1.2.3:6443', false],
    ['10.1.2.3:6443', 'https://10.1.2.3:6443', false],
    ['10.1.2.3:80', 'https://10.1.2.3:6443', true],
    ['fd00::/8', 'https://[fd00::1]:6443', false],
    ['[fd00::1]:6443', 'https://[fd00::1]:6443', false],
    [' API.Example , ,', 'https://api.example:6443', false],
    ['10.0.0.0/99', 'https://10.1.2.3:6443', true],
  ])('NO_PROXY=%j and %s: proxied %s', (noProxy, server, proxied) => {
    withEnvironment({ HTTPS_PROXY: 'http://proxy:3128', no_proxy: noProxy });
    expect(environmentProxyFor(server) !== undefined).toBe(proxied);
  });

  it('a value that is no proxy fails the request, naming the variable and the value', () => {
    withEnvironment({ HTTPS_PROXY: 'ftp://proxy:21' });
    let thrown: unknown;
    try {
      environmentProxyFor('https://api.example:6443');
    } catch (err) {
      thrown = err;
    }
    expect(isCodedError(thrown, 'INVALID_PROXY')).toBe(true);
    expect((thrown as Error).message).toBe(
      'invalid proxy address "ftp://proxy:21" in HTTPS_PROXY: unknown proxy scheme "ftp"',
    );
    withEnvironment({ HTTPS_PROXY: 'socks5://proxy:1080' });
    expect(environmentProxyFor('https://api.example:6443')).toBe('socks5://proxy:1080');
  });
});
