import { describe, expect, it } from 'vitest';
import { goDialError, goDialTimeout } from '../src/go-text/go-dial-error';

describe("goDialError: a failed TCP dial in Go's words", () => {
  it("prints a failed dial as Go's net.Dial does", () => {
    const refused = {
      errno: -111,
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '10.0.0.7',
      port: 8080,
    };
    expect(goDialError(refused, 'web', 8080)).toBe('dial tcp 10.0.0.7:8080: connect: connection refused');
    expect(goDialError({ errno: -113, syscall: 'connect' }, 'fd00::7', 80)).toBe(
      'dial tcp [fd00::7]:80: connect: no route to host',
    );
    expect(goDialError({ errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo' }, 'web', 80)).toBe(
      'dial tcp: lookup web: no such host',
    );
    expect(goDialTimeout('10.0.0.7', 80)).toBe('dial tcp 10.0.0.7:80: i/o timeout');
  });
});
