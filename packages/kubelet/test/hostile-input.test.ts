import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admitPod } from '../src/admission/admit-handler';
import { kubeletAdmitHandlers } from '../src/admission/kubelet-admit-handlers';
import type { Pod } from '../src/api/pod-types';
import { MAX_YAML_DEPTH } from '../src/config/bounded-yaml';
import { decodeKubeletConfigurationText, loadKubeletConfigurationFile } from '../src/config/load-config-file';
import { InvalidConfigError, InvalidPodSpecError } from '../src/errors';
import { podsFromManifest } from '../src/sources/http-pod-source';
import { readStaticPods } from '../src/sources/static-pod-source';

// Hostile input where the kubelet reads files and pods: a clear one-line error (or upstream's
// behaviour), memory bounded, the process alive. Upstream's go-yaml refuses `document contains
// excessive aliasing` and `exceeded max depth of 10000`; the API server would refuse some of the
// pods below (1 MiB of annotations is over its 256 KiB total), the kubelet must just not fall over.

const typeMeta = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n';
/** Billion laughs: 9 levels of 9 aliases each, 9^9 strings once expanded. */
const yamlBomb = (() => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  let previous = 'a';
  for (const name of 'bcdefghi') {
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    previous = name;
  }
  return lines.join('\n');
})();
const deepFlow = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepBlock = (depth: number) =>
  Array.from({ length: depth }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1';
const MiB = 2 ** 20;

/** How much the resident set grew while `run` ran (an unbounded expansion would be GiBs). */
async function rssGrowth(run: () => Promise<unknown> | unknown): Promise<number> {
  const before = process.memoryUsage().rss;
  await run();
  return process.memoryUsage().rss - before;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-hostile-input-${process.pid}-`));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a hostile kubelet configuration file', () => {
  it('refuses a YAML bomb in one line naming the file, as go-yaml words it, memory bounded', async () => {
    const file = join(dir, 'bomb.yaml');
    await writeFile(file, `${typeMeta}${yamlBomb}\n`);
    let error: unknown;
    const growth = await rssGrowth(() => loadKubeletConfigurationFile(file).catch((e) => (error = e)));
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toBe(
      `${file}: not valid YAML or JSON: document contains excessive aliasing`,
    );
    expect(growth).toBeLessThan(256 * MiB);
  });

  it('refuses nesting deeper than the limit, every time (a second deep parse could kill the process)', async () => {
    for (const [name, text] of [
      ['flow.yaml', deepFlow(10_000)],
      ['block.yaml', deepBlock(3_000)],
      ['flow.yaml', deepFlow(10_000)],
    ] as const) {
      const file = join(dir, name);
      await writeFile(file, `${typeMeta}x: ${text.includes('\n') ? `\n${text}` : text}\n`);
      await expect(loadKubeletConfigurationFile(file)).rejects.toThrow(
        `${file}: not valid YAML or JSON: exceeded max depth of ${MAX_YAML_DEPTH}`,
      );
    }
    // At the limit it is just YAML (the unknown field is reported, not the depth).
    expect(() =>
      decodeKubeletConfigurationText(`${typeMeta}x: ${deepFlow(MAX_YAML_DEPTH - 1)}`, dir),
    ).not.toThrow();
  });

  it('decodes any text to an object or an InvalidConfigError with a one-line message (property)', () => {
    const yamlish = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 6 }),
      fc
        .array(
          fc.constantFrom('[', ']', '{', '}', '&a ', '*a', ': ', '- ', '\n  ', 'kind', '"', "'", '#', '|'),
          {
            maxLength: 300,
          },
        )
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          decodeKubeletConfigurationText(`${typeMeta}${text}`, dir);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidConfigError);
          expect((error as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('hostile pods', () => {
  const podWith = (
    spec: Partial<Pod['spec']['containers'][number]>,
    annotations?: Record<string, string>,
  ): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'big', namespace: 'default', uid: 'u-big', annotations },
    spec: { containers: [{ name: 'app', image: 'busybox', ...spec }] },
  });
  const hugeAnnotations = podWith({}, { 'example.com/blob': 'x'.repeat(MiB + 1) });
  const manyEnv = podWith({
    env: Array.from({ length: 100_000 }, (_, i) => ({ name: `E${i}`, value: `${i}` })),
  });
  const handlers = kubeletAdmitHandlers({
    maxPods: 110,
    allowedUnsafeSysctls: [],
    eviction: () => ({ admit: true }),
    runtimeFeatures: () => undefined,
    appArmorHostError: () => undefined,
  });

  it('reads a 1 MiB+ annotation pod and a 100k-env pod from the static pod directory and admits them', async () => {
    const podDir = join(dir, 'manifests');
    await mkdir(podDir, { recursive: true });
    await writeFile(join(podDir, 'annotations.json'), JSON.stringify(hugeAnnotations));
    await writeFile(join(podDir, 'env.json'), JSON.stringify(manyEnv));
    let read: Awaited<ReturnType<typeof readStaticPods>> | undefined;
    const growth = await rssGrowth(async () => {
      read = await readStaticPods(podDir, 'node-1', '2026-01-01T00:00:00Z');
    });
    expect(read?.errors).toEqual([]);
    expect(read?.pods.map((p) => p.metadata.name)).toEqual(['big-node-1', 'big-node-1']);
    const [annotated, withEnv] = read!.pods;
    expect(annotated!.metadata.annotations?.['example.com/blob']).toHaveLength(MiB + 1);
    expect(withEnv!.spec.containers[0]!.env).toHaveLength(100_000);
    for (const pod of read!.pods) expect(admitPod(handlers, { pod, otherPods: [] })).toEqual({ admit: true });
    expect(growth).toBeLessThan(512 * MiB);
  }, 120_000);

  it('reports a static pod file nested 10k deep as that file’s error, read after read', async () => {
    const podDir = join(dir, 'deep-manifests');
    await mkdir(podDir, { recursive: true });
    const deep = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":{"containers":${deepFlow(10_000)}}}`;
    await writeFile(join(podDir, 'deep.json'), deep);
    await writeFile(
      join(podDir, 'deep.yaml'),
      `kind: Pod\nmetadata: {name: deep}\nspec: ${deepFlow(10_000)}\n`,
    );
    // The static pod source reads the directory again every fileCheckFrequency.
    for (let pass = 0; pass < 3; pass++) {
      const read = await readStaticPods(podDir, 'node-1', '2026-01-01T00:00:00Z');
      expect(read.pods).toEqual([]);
      expect(read.errors.map((e) => [e.file.split('/').at(-1), e.error.message])).toEqual([
        ['deep.json', `exceeded max depth of ${MAX_YAML_DEPTH}`],
        ['deep.yaml', `exceeded max depth of ${MAX_YAML_DEPTH}`],
      ]);
    }
    // The manifest URL's body goes through the same decoder.
    for (let pass = 0; pass < 2; pass++)
      expect(() => podsFromManifest(deep, 'http://manifests/deep')).toThrow(
        `couldn't parse as pod or pod list: exceeded max depth of ${MAX_YAML_DEPTH}`,
      );
    expect(() => podsFromManifest(yamlBomb, 'http://manifests/bomb')).toThrow(
      "couldn't parse as pod or pod list: document contains excessive aliasing",
    );
  }, 60_000);

  it('decodes any manifest text to pods or an InvalidPodSpecError, memory bounded (property)', async () => {
    const podLike = fc
      .record({
        kind: fc.constantFrom('Pod', 'PodList', 'Service'),
        metadata: fc.oneof(fc.record({ name: fc.string() }), fc.anything()),
        spec: fc.anything(),
        items: fc.array(fc.anything(), { maxLength: 3 }),
      })
      .map((object) => JSON.stringify(object));
    const deepSpec = fc
      .tuple(fc.integer({ min: 1, max: 5_000 }), fc.boolean())
      .map(([depth, json]) =>
        json
          ? `{"kind":"Pod","metadata":{"name":"d"},"spec":${deepFlow(depth)}}`
          : `kind: Pod\nmetadata: {name: d}\nspec: ${deepFlow(depth)}`,
      );
    const manifests = fc.oneof(podLike, deepSpec, fc.json({ maxDepth: 8 }), fc.string({ maxLength: 300 }));
    const growth = await rssGrowth(() =>
      fc.assert(
        fc.property(manifests, (text) => {
          try {
            expect(Array.isArray(podsFromManifest(text, 'http://manifests/p'))).toBe(true);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidPodSpecError);
          }
        }),
        { numRuns: 300 },
      ),
    );
    expect(growth).toBeLessThan(256 * MiB);
  }, 60_000);
});
