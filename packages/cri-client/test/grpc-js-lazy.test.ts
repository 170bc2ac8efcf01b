import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// The CRI client's unary calls go over node:http2; grpc-js, whose index loads its whole client
// and server stack, is evaluated only when the GetContainerEvents stream is first opened. Run in
// a node process of its own (a test worker's module cache is shared with other files); the CJS
// loader's cache tells whether grpc-js's index was evaluated.
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

const script = `
import { createRequire } from 'node:module';
const { CriClient } = await import('@nodeagent/cri-client');
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((f) => /@grpc[\\\\/]grpc-js[\\\\/]build[\\\\/]src[\\\\/]index\\.js$/.test(f));
const client = new CriClient({ endpoint: 'unix:///nonexistent/na-grpc-lazy.sock', timeoutMs: 200 });
const before = loaded();
await client.listContainers({}).catch(() => {});
const afterUnary = loaded();
const events = client.getContainerEvents();
await events.next().catch(() => {});
console.log(JSON.stringify({ before, afterUnary, afterStream: loaded() }));
client.close();
`;

describe('@nodeagent/cri-client', () => {
  it('evaluates @grpc/grpc-js only when the GetContainerEvents stream is first opened', () => {
    const r = spawnSync(
      process.execPath,
      [tsx, '--conditions=@nodeagent/source', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      before: false,
      afterUnary: false,
      afterStream: true,
    });
  });
});
