import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The streaming helpers (exec, attach, port-forward) load the `ws` library when the first stream
// opens, not when @nodeagent/cri-client is imported: evaluating it cost the kubelet executable
// 40-60 ms of its start. Run in a node process of its own (a test worker's module cache is
// shared with other files); the CJS loader's cache tells whether ws's WebSocket was evaluated.
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

const script = `
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
const { openStream } = await import('@nodeagent/cri-client');
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => /[\\\\/]ws[\\\\/]lib[\\\\/]websocket\\.js$/.test(f));
const before = loaded();
// A server that closes every connection: the upgrade fails, after ws was needed to try it.
const server = createServer((s) => s.destroy());
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address();
await openStream('http://127.0.0.1:' + port + '/exec/x').catch(() => {});
server.close();
console.log(JSON.stringify({ before, afterStream: loaded() }));
`;

describe('@nodeagent/cri-client streaming', () => {
  it('evaluates ws only when the first stream is opened', () => {
    const r = spawnSync(
      process.execPath,
      [tsx, '--conditions=@nodeagent/source', '--input-type=module', '-e', script],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      before: false,
      afterStream: true,
    });
  });
});
