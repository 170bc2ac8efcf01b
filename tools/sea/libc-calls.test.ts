import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURES } from './koffi-subset.cjs';
import { compileLibcCallsAddon } from './libc-calls.mjs';
import { ensureNode24, REPO_ROOT } from './node-runtime.mjs';

// The libc calls an executable answers `import('koffi')` with (libc-calls.c behind
// koffi-subset.cjs), compiled as the build compiles them and called by the Node 24 the
// executables carry, against the kernel: each call's result, errno after a failure, a blocking
// exchange on a unix socket with this process as the peer, and the send on a worker thread.

/** Every `func('…')` signature in the packages' and apps' sources. */
function signaturesInSources(): string[] {
  const found = new Set<string>();
  for (const root of ['packages', 'apps'])
    for (const name of readdirSync(join(REPO_ROOT, root))) {
      const src = join(REPO_ROOT, root, name, 'src');
      if (!existsSync(src)) continue;
      for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' }))
        if (/\.(ts|mjs|cjs|js)$/.test(file))
          for (const m of readFileSync(join(src, file), 'utf8').matchAll(/\.func\('([^']+)'\)/g))
            found.add(m[1] as string);
    }
  return [...found].sort();
}

const CHILD = `
const koffi = require(process.env.SUBSET).koffiSubset(require(process.env.ADDON));
const libc = koffi.load('libc.so.6');
const out = {};
const trim = libc.func('int malloc_trim(size_t pad)');
out.trim = trim(0);
const setrlimit = libc.func('int setrlimit(int, const void *)');
const limit = Buffer.alloc(16);
limit.writeBigUInt64LE(1000n, 0);
limit.writeBigUInt64LE(1000n, 8);
out.setrlimit = setrlimit(7, limit);
out.limits = require('node:fs').readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files')).split(/\\s+/).slice(3, 5);
out.badResource = [setrlimit(999, limit), koffi.errno()];
const socket = libc.func('int socket(int, int, int)');
const connect = libc.func('int connect(int, const void *, uint32_t)');
const setsockopt = libc.func('int setsockopt(int, int, int, const void *, uint32_t)');
const send = libc.func('intptr_t send(int, const void *, size_t, int)');
const recvmsg = libc.func('intptr_t recvmsg(int, void *, int)');
const close = libc.func('int close(int)');
const fd = socket(1, 1 | 0o2000000, 0);
const timeval = Buffer.alloc(16);
timeval.writeBigInt64LE(30n, 0);
out.timeout = setsockopt(fd, 1, 20, timeval, 16);
const address = Buffer.alloc(110);
address.writeUInt16LE(1, 0);
address.write(process.env.PEER, 2);
out.connect = connect(fd, address, 110);
out.sent = send(fd, Buffer.from('ping'), 4, 0x4000);
const memory = koffi.alloc('uint8_t', 56 + 16 + 4096);
const view = Buffer.from(koffi.view(memory, 56 + 16 + 4096));
const base = koffi.address(memory);
view.writeBigUInt64LE(base + 56n, 16);
view.writeBigUInt64LE(1n, 24);
view.writeBigUInt64LE(base + 72n, 56);
view.writeBigUInt64LE(4096n, 64);
const receive = () => view.subarray(72, 72 + recvmsg(fd, memory, 0x40000000)).toString();
out.received = receive();
try { send(fd, Buffer.alloc(2), 3, 0); } catch (err) { out.short = err.code; }
try { libc.func('int nope(void)'); } catch (err) { out.unknown = err.message; }
try { koffi.load('libm.so.6'); } catch (err) { out.otherLibrary = err.message; }
libc.func('long send(int, const void *, size_t, int)').async(fd, Buffer.from('again'), 5, 0, (err, n) => {
  out.asyncSent = [err, n];
  out.receivedAgain = receive();
  out.close = close(fd);
  out.closeAgain = [close(fd), koffi.errno()];
  process.stdout.write(JSON.stringify(out));
});
`;

describe('libc calls of the single executables', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), `na-libc-calls-${process.pid}-`));
  const peerPath = join(dir, 'peer.sock');
  let server: Server;
  beforeAll(async () => {
    // The peer answers each message with "pong:" and the message.
    server = createServer((conn) => conn.on('data', (d) => conn.write(`pong:${d}`)));
    await new Promise<void>((resolve) => server.listen(peerPath, resolve));
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('binds every C signature the packages bind through koffi', () => {
    const used = signaturesInSources();
    expect(used.length).toBeGreaterThanOrEqual(9);
    expect(used.filter((s) => !SIGNATURES.includes(s))).toEqual([]);
  });

  it('makes each call against the kernel, with errno after a failure and a send on a worker thread', async () => {
    const { node } = ensureNode24();
    const addon = compileLibcCallsAddon(node, dir);
    const script = join(dir, 'child.cjs');
    writeFileSync(script, CHILD);
    const child = spawn(node, [script], {
      env: {
        ...process.env,
        ADDON: addon,
        SUBSET: join(REPO_ROOT, 'tools/sea/koffi-subset.cjs'),
        PEER: peerPath,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    const out = JSON.parse(stdout);
    expect([0, 1]).toContain(out.trim);
    expect(out).toMatchObject({
      setrlimit: 0,
      limits: ['1000', '1000'],
      badResource: [-1, 22],
      timeout: 0,
      connect: 0,
      sent: 4,
      received: 'pong:ping',
      short: 'ERR_OUT_OF_RANGE',
      unknown: 'koffi: the executable has no "int nope(void)" (tools/sea/libc-calls.c)',
      otherLibrary: 'koffi.load(libm.so.6): an executable binds libc.so.6 only',
      asyncSent: [null, 5],
      receivedAgain: 'pong:again',
      close: 0,
      closeAgain: [-1, 9],
    });
  });
});
