import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@nodeagent/primitives';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { execNftables, fitsOneLine, NftSession, NftSessionError } from '../src/nftables/index';

// NftSession's line protocol against a stand-in for `nft -i` (test/nftables-fake-nft-interactive.mjs):
// the prefix runs `node fake.mjs` and the session appends `nft -i`, which the fake ignores.
const fake = join(import.meta.dirname, 'nftables-fake-nft-interactive.mjs');
const dir = mkdtempSync(join(tmpdir(), `na-nft-session-${process.pid}-`));
const prefix = ['env', `FAKE_NFT_LOG=${join(dir, 'applied.log')}`, process.execPath, fake];
const applied = () => readFileSync(join(dir, 'applied.log'), 'utf8').trim().split('\n');
const sessions: NftSession[] = [];
const newSession = (opts?: ConstructorParameters<typeof NftSession>[1]) => {
  const s = new NftSession(prefix, opts);
  sessions.push(s);
  return s;
};

afterAll(async () => {
  for (const s of sessions) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('NftSession', () => {
  it('sends a multi-line script as one line and resolves once nft has answered', async () => {
    rmSync(join(dir, 'applied.log'), { force: true });
    const s = newSession();
    await s.apply('add element ip t s { 1.1.1.1 }\ndelete element ip t s { 2.2.2.2 }\n');
    await s.apply('add element ip t s { 3.3.3.3 }\n');
    expect(applied()).toEqual([
      'add element ip t s { 1.1.1.1 } ; delete element ip t s { 2.2.2.2 }',
      'add element ip t s { 3.3.3.3 }',
    ]);
  });

  it("rejects with nft's error text, and the next transaction still goes through", async () => {
    rmSync(join(dir, 'applied.log'), { force: true });
    const s = newSession();
    const err = await s.apply('add element ip t s { fail }').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftSessionError);
    expect((err as NftSessionError).code).toBe('NFT_SESSION_REJECTED');
    expect((err as NftSessionError).stderr).toContain('Could not process rule');
    expect((err as NftSessionError).stderr).not.toContain('na-sync-');
    const pid = s.pid;
    await s.apply('add element ip t s { 4.4.4.4 }');
    expect(s.pid).toBe(pid);
    expect(applied()).toEqual(['add element ip t s { 4.4.4.4 }']);
  });

  it('serialises concurrent applies in call order', async () => {
    rmSync(join(dir, 'applied.log'), { force: true });
    const s = newSession();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.apply(`add element ip t s { 10.0.0.${i} }`)));
    expect(applied()).toEqual(Array.from({ length: 20 }, (_, i) => `add element ip t s { 10.0.0.${i} }`));
  });

  it('reports an nft that exits, and starts a new one for the next transaction', async () => {
    const s = newSession();
    await s.apply('add element ip t s { 5.5.5.5 }');
    const first = s.pid;
    const err = await s.apply('add element ip t s { exit }').catch((e: unknown) => e);
    expect((err as NftSessionError).code).toBe('NFT_SESSION_EXITED');
    await s.apply('add element ip t s { 6.6.6.6 }');
    expect(s.pid).toBeDefined();
    expect(s.pid).not.toBe(first);
  });

  it('gives up on an nft that does not answer in time and kills it', async () => {
    // The limit runs on an injected clock: it passes only when the test says so, never because
    // a busy machine made the fake nft slow to start.
    const clock = new FakeClock();
    const s = newSession({ timeoutMs: 300, clock });
    await s.apply('add element ip t s { 7.7.7.7 }');
    expect(clock.pendingTimers()).toBe(0);
    const pending = s.apply('add element ip t s { hang }').catch((e: unknown) => e);
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
    clock.advance(299);
    expect(s.pid).toBeDefined();
    clock.advance(1);
    const err = await pending;
    expect((err as NftSessionError).code).toBe('NFT_SESSION_TIMEOUT');
    expect(s.pid).toBeUndefined();
    await s.apply('add element ip t s { 8.8.8.8 }');
    expect(s.pid).toBeDefined();
  });

  it('restarts nft once the bytes fed exceed restartAfterBytes (nft -i keeps a line history)', async () => {
    const s = newSession({ restartAfterBytes: 100 });
    await s.apply(`add element ip t s { ${'9.9.9.9, '.repeat(15)}9.9.9.9 }`);
    const first = s.pid;
    await s.apply('add element ip t s { 9.9.9.8 }');
    expect(s.pid).not.toBe(first);
  });
});

describe('fitsOneLine', () => {
  it('accepts one command per line and refuses what nft -i would read differently', () => {
    expect(fitsOneLine('add element ip t s { 1.1.1.1 comment "a b" }\nflush chain ip t c')).toBe(true);
    expect(fitsOneLine('add rule ip t c meta mark 1 \\\ncounter')).toBe(false);
    expect(fitsOneLine('add element ip t s { 1.1.1.1 comment "a\nb" }')).toBe(false);
    expect(fitsOneLine('add element ip t s { 1.1.1.1 }\r\n')).toBe(false);
  });
});

describe('execNftables run', () => {
  it('sends small transactions through the session and other scripts through nft -f', async () => {
    rmSync(join(dir, 'applied.log'), { force: true });
    // With a prefix, `nft -f -` runs as `… fake.mjs nft -f -`: the fake reads stdin the same way.
    const ex = execNftables({ family: 'ip', commandPrefix: prefix, sessionMaxScriptBytes: 100 });
    const element = (set: string, ...key: string[]) => ({ kind: 'element', container: set, key }) as const;
    try {
      expect(ex.table).toBe('kube-proxy');
      await ex.run(ex.newTransaction());
      // Two sets: two script lines, which the session sends as one (joined with " ; ").
      await ex.run(ex.newTransaction().add(element('s', '1.2.3.4')).add(element('t', '1.2.3.5')));
      const big = ex.newTransaction();
      for (let i = 0; i < 10; i++) big.add(element('s', `1.2.3.${10 + i}`));
      await ex.run(big.add(element('t', '1.2.3.9')));
      await ex.runScript('flush set ip kube-proxy s\nflush chain ip kube-proxy c');
      const many = Array.from({ length: 10 }, (_, i) => `1.2.3.${10 + i}`).join(', ');
      expect(applied()).toEqual([
        'add element ip kube-proxy s { 1.2.3.4 } ; add element ip kube-proxy t { 1.2.3.5 }',
        // Over sessionMaxScriptBytes: one nft -f run, which the fake logs line by line.
        `add element ip kube-proxy s { ${many} }`,
        'add element ip kube-proxy t { 1.2.3.9 }',
        'flush set ip kube-proxy s',
        'flush chain ip kube-proxy c',
      ]);
    } finally {
      await ex.close();
    }
  });
});
