import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goParseQuery } from '../src/server/go-query-values';
import { goRegexpSyntaxError } from '../src/server/go-regexp-syntax';
import { journalctlArgs } from '../src/server/journal-query';
import { parseNodeLogQuery, validateNodeLogQuery } from '../src/server/node-log-query';
import { secureJoin } from '../src/server/secure-join';
import { type SystemLogOptions, serveSystemLogs } from '../src/server/system-logs-route';

// The node log query (/logs/?query=…) as upstream v1.36 answers it: pkg/kubelet/kubelet.go Run
// (400 parse, 406 path and validation), kubelet_server_journal.go (newNodeLogQuery, validate,
// copyForBoot, heuristicsCopyFileLogs) and kubelet_server_journal_linux.go (getLoggingCmd,
// checkForNativeLogger). journalctl is a script on a per-run PATH, so no host journal is read.

let dir: string;
let logDir: string;
let binDir: string;
let emptyBin: string;
let argsFile: string;
let server: Server;
let noJournal: Server;
let port: number;
let noJournalPort: number;

/** A fake journalctl: `--field` lists two units; a query run records its arguments and prints a line. */
const fakeJournalctl = (record: string) => `#!/bin/sh
if [ "$1" = "--field" ]; then printf 'kubelet.service\\ncontainerd.service\\n'; exit 0; fi
printf '%s\\n' "$@" > '${record}'
echo "journal for $*"
`;

function serve(options: SystemLogOptions): Promise<Server> {
  const s = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://node');
    const target = {
      pathname: decodeURIComponent(url.pathname),
      escapedPathname: url.pathname,
      search: url.search,
      searchParams: url.searchParams,
    };
    void serveSystemLogs(options, target, request, response);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-node-log-query-${process.pid}-`));
  logDir = join(dir, 'var-log');
  binDir = join(dir, 'bin');
  emptyBin = join(dir, 'empty-bin');
  argsFile = join(dir, 'journalctl-args');
  await mkdir(join(logDir, 'nginx'), { recursive: true });
  await mkdir(binDir);
  await mkdir(emptyBin);
  await writeFile(join(logDir, 'syslog'), 'node booted\n');
  await writeFile(join(logDir, 'nginx', 'nginx.log'), 'nginx started\n');
  await writeFile(join(logDir, 'kube-proxy.log'), 'proxy rules synced\n');
  await writeFile(join(dir, 'secret'), 'outside the log directory\n');
  await symlink(join(dir, 'secret'), join(logDir, 'out.log'));
  await writeFile(join(binDir, 'journalctl'), fakeJournalctl(argsFile));
  await chmod(join(binDir, 'journalctl'), 0o755);
  server = await serve({ dir: logDir, query: true, journalctlPath: binDir });
  noJournal = await serve({ dir: logDir, query: true, journalctlPath: emptyBin });
  port = (server.address() as AddressInfo).port;
  noJournalPort = (noJournal.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of [server, noJournal]) await new Promise((resolve) => s?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function get(path: string, headers: Record<string, string> = {}, to = port) {
  return new Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: to, path, headers });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const text = async (path: string, headers?: Record<string, string>, to?: number) => {
  const r = await get(path, headers, to);
  return [r.status, r.body.toString('utf8')] as const;
};

describe('parsing the query (newNodeLogQuery, 400)', () => {
  it('splits files from services, ignores blanks and reports each bad value as field.Invalid', () => {
    const parsed = parseNodeLogQuery(goParseQuery('query=foo&query=/bar&query=%20&pattern=x'));
    expect(parsed.query).toMatchObject({ services: ['foo'], files: ['/bar'], pattern: 'x' });
    expect(parseNodeLogQuery(goParseQuery('unknown=true'))).toEqual({ errors: [] });
    expect(parseNodeLogQuery(goParseQuery('sinceTime=&boot='))).toEqual({ errors: [] });
    expect(parseNodeLogQuery(goParseQuery('query=+++&query=')).errors).toEqual([
      'query: Invalid value: []string{"   ", ""}: query cannot be empty',
    ]);
    expect(
      parseNodeLogQuery(goParseQuery('sinceTime=2019-12-04+02:00:00&tailLines=foo&boot=%20')).errors,
    ).toEqual([
      'sinceTime: Invalid value: "2019-12-04 02:00:00": invalid time format',
      'boot: Invalid value: " ": strconv.Atoi: parsing " ": invalid syntax',
      'tailLines: Invalid value: "foo": strconv.Atoi: parsing "foo": invalid syntax',
    ]);
  });

  it('answers 400 with the aggregate, and a request without query parameters is the file server’s', async () => {
    expect(await text('/logs/?untilTime=yesterday')).toEqual([
      400,
      'untilTime: Invalid value: "yesterday": invalid time format\n',
    ]);
    expect(await text('/logs/?tailLines=x&boot=y')).toEqual([
      400,
      '[boot: Invalid value: "y": strconv.Atoi: parsing "y": invalid syntax, tailLines: Invalid value: "x": strconv.Atoi: parsing "x": invalid syntax]\n',
    ]);
    expect(await text('/logs/syslog?unrelated=1')).toEqual([200, 'node booted\n']);
  });
});

describe('validating the query (nodeLogQuery.validate, 406)', () => {
  const q = (raw: string) =>
    parseNodeLogQuery(goParseQuery(raw)).query as NonNullable<ReturnType<typeof parseNodeLogQuery>['query']>;
  const exists = async () => undefined;

  it('words every rule as upstream', async () => {
    expect(await validateNodeLogQuery(q('pattern=x'), exists)).toEqual([
      'query: Required value: cannot be empty with options',
    ]);
    expect(await validateNodeLogQuery(q('query=a&query=/b'), exists)).toEqual([
      'query: Invalid value: "[/b], [a]": cannot specify a file and service',
    ]);
    expect(await validateNodeLogQuery(q('query=/a&query=/b'), exists)).toEqual([
      'query: Invalid value: []string{"/a", "/b"}: cannot specify more than one file',
    ]);
    expect(await validateNodeLogQuery(q('query=/a&tailLines=3'), exists)).toEqual([
      'query: Invalid value: []string{"/a"}: cannot specify file with options',
    ]);
    expect(await validateNodeLogQuery(q('query=a&query=b&query=c.d&query=e:f&query=g@h'), exists)).toEqual([
      'query: Too many: 5: must have at most 4 items',
    ]);
    expect(await validateNodeLogQuery(q(`query=svc%0A&query=${'s'.repeat(257)}`), exists)).toEqual([
      'query: Invalid value: "svc\\n": input contains unsupported characters',
      `query: Invalid value: "${'s'.repeat(257)}": length must be less than 100`,
    ]);
    expect(
      await validateNodeLogQuery(
        q(
          'query=k&sinceTime=2023-02-04T02:00:00Z&untilTime=2023-01-04T02:00:00.5%2B02:00&boot=1&tailLines=100001',
        ),
        exists,
      ),
    ).toEqual([
      'untilTime: Invalid value: 2023-01-04 02:00:00.5 +0200 +0200: must be after `sinceTime`',
      'boot: Invalid value: 1: must be less than 1',
      'tailLines: Invalid value: 100001: must be between 0 and 100000, inclusive',
    ]);
    expect(await validateNodeLogQuery(q('query=k&tailLines=100000&boot=-2'), exists)).toEqual([]);
  });

  it('checks the pattern as Go’s regexp/syntax (Perl flags) words its errors', () => {
    expect(goRegexpSyntaxError('foo\\')).toBe(
      'error parsing regexp: trailing backslash at end of expression: ``',
    );
    expect(goRegexpSyntaxError('(a')).toBe('error parsing regexp: missing closing ): `(a`');
    expect(goRegexpSyntaxError('a)')).toBe('error parsing regexp: unexpected ): `a)`');
    expect(goRegexpSyntaxError('[a')).toBe('error parsing regexp: missing closing ]: `[a`');
    expect(goRegexpSyntaxError('*a')).toBe(
      'error parsing regexp: missing argument to repetition operator: `*`',
    );
    expect(goRegexpSyntaxError('a**')).toBe('error parsing regexp: invalid nested repetition operator: `**`');
    expect(goRegexpSyntaxError('(a)\\1')).toBe('error parsing regexp: invalid escape sequence: `\\1`');
    expect(goRegexpSyntaxError('a(?=b)')).toBe(
      'error parsing regexp: invalid or unsupported Perl syntax: `(?=`',
    );
    for (const fine of ['', 'err(or)?|fail.*', '(?i)timeout', '(?P<x>a+?)[]a]\\d\\.', 'x{2,3}'])
      expect(goRegexpSyntaxError(fine)).toBeUndefined();
  });

  it('answers 406 for a path beside the query, a bad query and a file that is not there', async () => {
    expect(await text('/logs/syslog?query=kubelet')).toEqual([406, 'path not allowed in query mode\n']);
    expect(await text('/logs/?query=kubelet&pattern=(')).toEqual([
      406,
      'pattern: Invalid value: "(": error parsing regexp: missing closing ): `(`\n',
    ]);
    expect(await text('/logs/?query=/../../secret')).toEqual([
      406,
      `query: Invalid value: []string{"/../../secret"}: stat ${logDir}/secret: no such file or directory\n`,
    ]);
  });
});

describe('service queries through journalctl', () => {
  it('passes upstream’s arguments (--utc, --no-pager, --output, --since, --lines, --unit, --grep, --boot)', async () => {
    const [status, body] = await text(
      '/logs/?query=kubelet&sinceTime=2026-01-02T03:04:05%2B01:00&tailLines=20&pattern=err&boot=-1',
    );
    expect(status).toBe(200);
    const args = (await readFile(argsFile, 'utf8')).trimEnd().split('\n');
    expect(args).toEqual([
      '--utc',
      '--no-pager',
      '--output=short-precise',
      '--since=2026-1-2 3:4:5',
      '--pager-end',
      '--lines=20',
      '--unit=kubelet',
      '--grep=err',
      '--boot',
      '-1',
    ]);
    expect(body).toBe(`journal for ${args.join(' ')}\n`);
  });

  it('formats --until from the since time, as upstream’s getLoggingCmd does', () => {
    const q = parseNodeLogQuery(
      goParseQuery('query=k&sinceTime=2026-01-02T03:04:05Z&untilTime=2026-05-06T07:08:09Z'),
    ).query;
    expect(journalctlArgs(q as never, ['k']).filter((a) => a.startsWith('--'))).toEqual([
      '--utc',
      '--no-pager',
      '--output=short-precise',
      '--since=2026-1-2 3:4:5',
      '--until=2026-1-2 3:4:5',
      '--unit=k',
    ]);
  });

  it('drops the connection for untilTime without sinceTime on a journald service, as upstream’s handler panics', async () => {
    await expect(get('/logs/?query=kubelet&untilTime=2026-01-02T03:04:05Z')).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
    // A service read from files never builds the journalctl arguments: no panic there.
    expect(await text('/logs/?query=absent&untilTime=2026-01-02T03:04:05Z')).toEqual([
      200,
      '\noptions present and query resolved to log files for [absent]\ntry without specifying options\n',
    ]);
  });

  it('reads a service journald does not list from its file: <s>, <s>.log, <s>/<s>.log', async () => {
    expect(await text('/logs/?query=kube-proxy')).toEqual([200, 'proxy rules synced\n']);
    expect(await text('/logs/?query=nginx')).toEqual([200, 'nginx started\n']);
    expect(await text('/logs/?query=absent')).toEqual([200, '\nlog not found for absent\n']);
    // A symlink leading out of the log directory is not followed (OpenInRoot keeps it inside).
    expect(await text('/logs/?query=out.log')).toEqual([200, '\nlog not found for out.log\n']);
    expect(await text('/logs/?query=nginx&tailLines=5')).toEqual([
      200,
      '\noptions present and query resolved to log files for [nginx]\ntry without specifying options\n',
    ]);
  });

  it('without journalctl on PATH falls back to the files, and gzips when asked', async () => {
    expect(await text('/logs/?query=kube-proxy', {}, noJournalPort)).toEqual([200, 'proxy rules synced\n']);
    expect(await text('/logs/?query=kubelet', {}, noJournalPort)).toEqual([
      200,
      '\nlog not found for kubelet\n',
    ]);
    const zipped = await get('/logs/?query=kubelet', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe('text/plain;charset=UTF-8');
    expect(gunzipSync(zipped.body).toString()).toBe(
      'journal for --utc --no-pager --output=short-precise --unit=kubelet\n',
    );
  });
});

describe('journalctl gone between the unit check and the run', () => {
  /** A server whose journalctl lists kubelet.service once, then removes itself. */
  async function vanishingJournal(name: string): Promise<Server> {
    const bin = join(dir, name);
    await mkdir(bin);
    const script = `#!/bin/sh\n/bin/rm -f "$0"\necho kubelet.service\n`;
    await writeFile(join(bin, 'journalctl'), script);
    await chmod(join(bin, 'journalctl'), 0o755);
    return serve({ dir: logDir, query: true, journalctlPath: bin });
  }

  it('says the journal output is not available, unless an earlier boot was asked for', async () => {
    for (const [name, query, body] of [
      ['gone-1', 'query=kubelet', '\nerror: journal output not available\n'],
      ['gone-2', 'query=kubelet&boot=-1', ''],
    ] as const) {
      const s = await vanishingJournal(name);
      try {
        expect(await text(`/logs/?${query}`, {}, (s.address() as AddressInfo).port)).toEqual([200, body]);
      } finally {
        await new Promise((resolve) => s.close(resolve));
      }
    }
  });
});

describe('file queries', () => {
  it('serves the file the query names, and refuses one whose symlink leads out', async () => {
    expect(await text('/logs/?query=/syslog')).toEqual([200, 'node booted\n']);
    expect(await text('/logs/?query=nginx/nginx.log')).toEqual([200, 'nginx started\n']);
    // securejoin expands the link as if the log directory were `/`: its absolute target is looked
    // for under the directory, where it is not.
    expect(await text('/logs/?query=/out.log')).toEqual([
      406,
      `query: Invalid value: []string{"/out.log"}: stat ${join(logDir, dir, 'secret')}: no such file or directory\n`,
    ]);
  });
});

describe('secureJoin (filepath-securejoin SecureJoin)', () => {
  it('expands links as if the root were /, and stops a loop', async () => {
    const root = join(dir, 'sj');
    await mkdir(join(root, 'a'), { recursive: true });
    await symlink('../../../..', join(root, 'a', 'up'));
    await symlink('/a', join(root, 'abs'));
    await symlink('loop', join(root, 'loop'));
    expect(await secureJoin(root, 'a/up/etc/passwd')).toEqual({ path: join(root, 'etc/passwd') });
    expect(await secureJoin(root, '/abs/x.log')).toEqual({ path: join(root, 'a/x.log') });
    expect(await secureJoin(root, '../../x/../y')).toEqual({ path: join(root, 'y') });
    expect(await secureJoin(root, 'loop')).toEqual({
      error: `SecureJoin ${root}/loop: too many levels of symbolic links`,
    });
  });
});
