import { createServer, type Server } from 'node:http';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiStatusError, KubeListerWatcher, type Wire } from '../src/index';
import { plainHttpKubeConfig } from './plain-http-kube-config';

type CM = Wire<V1ConfigMap>;
const cm = (i: number): CM => ({
  metadata: {
    name: `cm-${i}`,
    namespace: 'ns',
    resourceVersion: String(i),
    managedFields: [{ manager: 'x' }],
  },
  data: { text: `a "quoted" {brace} [bracket] \\ é ${i}` },
});

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server answering every GET with `body` cut into `parts`, each written once `gate(i)` resolves. */
function serve(parts: string[], gate: (i: number) => Promise<void>, status = 200): Promise<Server> {
  return new Promise((resolve) => {
    server = createServer(async (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      for (let i = 0; i < parts.length; i++) {
        await gate(i);
        res.write(Buffer.from(parts[i]!, 'utf8'));
      }
      res.end();
    }).listen(0, '127.0.0.1', () => resolve(server!));
  });
}

describe('KubeListerWatcher.list: the items decoded and transformed as the body arrives', () => {
  it('transforms an item before the rest of the body is sent, and reads the list metadata after the items', async () => {
    const items = [cm(1), cm(2), cm(3)];
    const body = JSON.stringify({
      kind: 'ConfigMapList',
      apiVersion: 'v1',
      items,
      metadata: { resourceVersion: '42', continue: 'next-page' },
    });
    // Cut inside the second item's multi-byte character (é is two bytes): the decoder must join them.
    const bytes = Buffer.from(body, 'utf8');
    const cut = bytes.indexOf(Buffer.from('é 2', 'utf8')) + 1;
    const parts = [bytes.subarray(0, cut).toString('latin1'), bytes.subarray(cut).toString('latin1')];
    let firstTransformed: () => void = () => undefined;
    const transformedOne = new Promise<void>((r) => {
      firstTransformed = r;
    });
    // The second part is only sent once the first item went through the transform: a reader
    // that waited for the whole body would never get it (and the test would time out).
    const s = await new Promise<Server>((resolve) => {
      server = createServer(async (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(Buffer.from(parts[0]!, 'latin1'));
        await transformedOne;
        res.end(Buffer.from(parts[1]!, 'latin1'));
      }).listen(0, '127.0.0.1', () => resolve(server!));
    });
    const lw = new KubeListerWatcher<CM>(plainHttpKubeConfig(s), { apiVersion: 'v1', plural: 'configmaps' });
    const seen: string[] = [];
    const page = await lw.list({}, AbortSignal.timeout(10_000), (o) => {
      seen.push(o.metadata!.name!);
      firstTransformed();
      const { managedFields: _m, ...metadata } = o.metadata!;
      return { ...o, metadata };
    });
    expect(seen).toEqual(['cm-1', 'cm-2', 'cm-3']);
    expect(page.transformed).toBe(true);
    expect(page.items).toEqual(
      items.map((o) => ({
        ...o,
        metadata: { name: o.metadata!.name, namespace: 'ns', resourceVersion: o.metadata!.resourceVersion },
      })),
    );
    expect(page.resourceVersion).toBe('42');
    expect(page.continue).toBe('next-page');
  });

  it('without a transform gives the items as sent, not marked transformed', async () => {
    const body = JSON.stringify({ metadata: { resourceVersion: '7' }, items: [cm(1)] });
    const s = await serve([body.slice(0, 30), body.slice(30)], async () => undefined);
    const lw = new KubeListerWatcher<CM>(plainHttpKubeConfig(s), { apiVersion: 'v1', plural: 'configmaps' });
    const page = await lw.list({}, AbortSignal.timeout(10_000));
    expect(page).toEqual({ items: [cm(1)], resourceVersion: '7' });
  });

  it('a failed answer is still its Status error', async () => {
    const status = { kind: 'Status', code: 410, reason: 'Expired', message: 'continue expired' };
    const s = await serve([JSON.stringify(status)], async () => undefined, 410);
    const lw = new KubeListerWatcher<CM>(plainHttpKubeConfig(s), { apiVersion: 'v1', plural: 'configmaps' });
    const err = await lw.list({}, AbortSignal.timeout(10_000), (o) => o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiStatusError);
    expect((err as ApiStatusError).expired).toBe(true);
  });

  it('a body cut off inside an item is an error, not a shorter list', async () => {
    const body = JSON.stringify({ metadata: { resourceVersion: '7' }, items: [cm(1), cm(2)] });
    const s = await serve([body.slice(0, body.length - 20)], async () => undefined);
    const lw = new KubeListerWatcher<CM>(plainHttpKubeConfig(s), { apiVersion: 'v1', plural: 'configmaps' });
    await expect(lw.list({}, AbortSignal.timeout(10_000))).rejects.toThrow(SyntaxError);
  });
});
