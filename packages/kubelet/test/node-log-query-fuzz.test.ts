import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../src/server/byte-ranges';
import { goParseQuery } from '../src/server/go-query-values';
import { goRegexpSyntaxError } from '../src/server/go-regexp-syntax';
import { parseNodeLogQuery, validateNodeLogQuery } from '../src/server/node-log-query';
import { serveSystemLogs } from '../src/server/system-logs-route';

// Property tests of the node log query and the Range parser with hostile input: the parsers
// never throw, and whatever the query names (`..`, encoded slashes, symlinks leading out, flag-
// like service names), the answer is one of upstream's statuses and never holds a byte of the
// file beside the log directory. journalctl is a script on a per-run PATH that prints its
// arguments, so an argument that smuggled a path would show in the body.

const SECRET = 'node-log-query-fuzz-secret';

let dir: string;
let server: Server;
let port: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-nlq-fuzz-${process.pid}-`));
  const logDir = join(dir, 'var-log');
  const bin = join(dir, 'bin');
  await mkdir(join(logDir, 'svc'), { recursive: true });
  await mkdir(bin);
  await writeFile(join(logDir, 'syslog'), 'booted\n');
  await writeFile(join(logDir, 'svc', 'svc.log'), 'svc line\n');
  await writeFile(join(dir, 'secret'), SECRET);
  await symlink(join(dir, 'secret'), join(logDir, 'escape.log'));
  await symlink(dir, join(logDir, 'escape-dir'));
  await writeFile(
    join(bin, 'journalctl'),
    `#!/bin/sh\nif [ "$1" = "--field" ]; then echo kubelet.service; exit 0; fi\necho "$@"\n`,
  );
  await chmod(join(bin, 'journalctl'), 0o755);
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://node');
    const target = {
      pathname: url.pathname,
      escapedPathname: url.pathname,
      search: url.search,
      searchParams: url.searchParams,
    };
    serveSystemLogs({ dir: logDir, query: true, journalctlPath: bin }, target, request, response).catch(
      () => {
        response.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function get(path: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const names = ['query', 'sinceTime', 'untilTime', 'tailLines', 'pattern', 'boot', 'x'];
const values = fc.oneof(
  fc.constantFrom(
    'kubelet',
    'svc',
    '/syslog',
    '/../secret',
    '..%2Fsecret',
    '/escape.log',
    '/escape-dir/secret',
  ),
  fc.constantFrom(
    '--file=/etc/passwd',
    '-u',
    'a%20b',
    '%00',
    '%zz',
    '+',
    '2026-01-02T03:04:05Z',
    '-1',
    '9'.repeat(30),
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const rawQuery = fc.oneof(
  // One query alone (a file query allows no options), often one that leads out.
  values.map((v) => `query=${v}`),
  fc
    .array(fc.tuple(fc.constantFrom(...names), values), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
);

describe('node log query properties', () => {
  it('parses and validates any query without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), rawQuery, async (junk, raw) => {
        for (const text of [junk, raw]) {
          const parsed = parseNodeLogQuery(goParseQuery(text));
          if (parsed.query) await validateNodeLogQuery(parsed.query, async () => undefined);
        }
      }),
    );
    fc.assert(fc.property(fc.string({ maxLength: 20 }), (pattern) => void goRegexpSyntaxError(pattern)));
  });

  it('answers any query with upstream’s statuses and never a byte from outside the log directory', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/logs/', '/logs/syslog', '/logs/svc/'),
        rawQuery,
        async (path, raw) => {
          const { status, body } = await get(`${path}?${raw}`);
          expect([200, 301, 400, 403, 404, 406]).toContain(status);
          expect(body).not.toContain(SECRET);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Range properties', () => {
  it('yields ranges inside the content or one of its two errors, for any header', () => {
    const header = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc
        .array(
          fc.tuple(fc.option(fc.integer({ min: -3, max: 40 })), fc.option(fc.integer({ min: -3, max: 40 }))),
          {
            maxLength: 4,
          },
        )
        .map((specs) => `bytes=${specs.map(([a, b]) => `${a ?? ''}-${b ?? ''}`).join(',')}`),
    );
    fc.assert(
      fc.property(header, fc.integer({ min: 0, max: 32 }), (h, size) => {
        const parsed = parseRange(h, size);
        if ('error' in parsed) return;
        for (const r of parsed.ranges) {
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.length).toBeGreaterThanOrEqual(0);
          expect(r.start + r.length).toBeLessThanOrEqual(size);
        }
      }),
    );
  });
});
