import { NetnsScope } from '@nodeagent/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ApplyError,
  InputAbortedError,
  type IptablesBackend,
  IptablesClient,
  netnsRunner,
} from '../../src/index';

// Real kernel, each case in its own throwaway network namespace (never the host's).

/** A nat payload declaring KUBE-SERVICES and `n` service chains, cut into chunks of `per` chains. */
function natChunks(n: number, per: number, tag: string): string[] {
  const chunks: string[] = ['*nat\n:KUBE-SERVICES - [0:0]\n'];
  for (let start = 0; start < n; start += per) {
    let text = '';
    for (let i = start; i < Math.min(n, start + per); i++) {
      text += `:KUBE-SVC-${tag}${i} - [0:0]\n`;
      text += `-A KUBE-SVC-${tag}${i} -d 10.0.${i >> 8}.${i & 255}/32 -p tcp -m tcp --dport 80 -j ACCEPT\n`;
      text += `-A KUBE-SERVICES -d 10.0.${i >> 8}.${i & 255}/32 -j KUBE-SVC-${tag}${i}\n`;
    }
    chunks.push(text);
  }
  chunks.push('COMMIT\n');
  return chunks;
}

async function* produce(chunks: readonly string[], failBefore?: number): AsyncGenerator<string> {
  for (const [i, c] of chunks.entries()) {
    if (i === failBefore) throw new Error(`render failed before chunk ${i}`);
    // Let iptables-restore consume what it has, as a renderer's pauses would.
    await new Promise((r) => setTimeout(r, 2));
    yield c;
  }
}

const expected = (n: number) => ({ chains: n + 1, rules: 2 * n, builtinRules: 0 });

for (const backend of ['nft', 'legacy'] as IptablesBackend[]) {
  describe(`iptables-restore with a streamed payload (${backend} back end, real kernel)`, () => {
    const scope = new NetnsScope(`nf-ipts-${backend}`);
    afterAll(() => scope.cleanup());

    async function fresh(): Promise<IptablesClient> {
      const netns = await scope.create();
      return new IptablesClient({ runner: netnsRunner(netns.path), backend });
    }

    it('applies a payload produced chunk by chunk', async () => {
      const client = await fresh();
      const result = await client.restoreStream(produce(natChunks(600, 50, 'A')), {
        counters: true,
        expected: expected(600),
      });
      // 600 declared chains: auto widens the nft cache; legacy always plain --noflush.
      expect(result.strategy).toBe(backend === 'nft' ? 'noflush-full-cache' : 'noflush');
      expect(result.rules).toBe(1200);
      const nat = await client.saveText('nat');
      expect(nat).toContain(':KUBE-SVC-A599 - [0:0]');
      expect(nat.match(/^-A KUBE-SERVICES /gm)?.length).toBe(600);
    });

    it('sends an unwidened tail after the stream: jumps from built-in chains of a table created just before', async () => {
      const client = await fresh();
      const result = await client.restoreStream(produce(natChunks(600, 100, 'J')), {
        expected: expected(600),
        unwidenedTail: () => '*nat\n-I PREROUTING -j KUBE-SERVICES\n-I OUTPUT -j KUBE-SERVICES\nCOMMIT\n',
      });
      expect(result.strategy).toBe(backend === 'nft' ? 'noflush-full-cache' : 'noflush');
      const nat = await client.saveText('nat');
      expect(nat).toContain('-A PREROUTING -j KUBE-SERVICES');
      expect(nat).toContain('-A OUTPUT -j KUBE-SERVICES');
      expect(nat).toContain(':KUBE-SVC-J599 - [0:0]');
    });

    it('a producer that throws mid-stream leaves the kernel as it was', async () => {
      const client = await fresh();
      await client.restoreStream(produce(natChunks(100, 100, 'OLD')), { expected: expected(100) });
      const before = await client.saveText('nat');
      // The first chunks flush KUBE-SERVICES and declare new chains; then the renderer fails.
      const error = await client
        .restoreStream(produce(natChunks(600, 100, 'NEW'), 3), { expected: expected(600) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputAbortedError);
      expect((error as InputAbortedError).bytesWritten).toBeGreaterThan(1000);
      expect(((error as InputAbortedError).cause as Error).message).toBe('render failed before chunk 3');
      const after = await client.saveText('nat');
      const rules = (s: string) => s.split('\n').filter((l) => l.startsWith(':') || l.startsWith('-A'));
      expect(rules(after)).toEqual(rules(before));
      expect(after).not.toContain('KUBE-SVC-NEW');
      expect(after.match(/^-A KUBE-SERVICES /gm)?.length).toBe(100);
    });

    it('names the failing line of the payload as produced (not as widened)', async () => {
      const client = await fresh();
      const chunks = natChunks(600, 100, 'B');
      // After 200 services (line 603): a rule iptables-restore rejects while parsing.
      chunks.splice(3, 0, '-A KUBE-SERVICES -p tcp -m tcp --dport not-a-port -j ACCEPT\n');
      const payload = chunks.join('');
      const error = await client
        .restoreStream(produce(chunks), { expected: expected(600) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplyError);
      const line = (error as ApplyError).line!;
      expect((error as ApplyError).lineText).toBe(payload.split('\n')[line - 1]);
      expect((error as ApplyError).lineText).toContain('not-a-port');
      expect(await client.saveText('nat')).not.toContain('KUBE-SVC-B');
    });
  });
}
