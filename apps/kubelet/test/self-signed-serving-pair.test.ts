import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeletLogger } from '@nodeagent/kubelet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedKubeletOptions } from '../src/kubelet-flags';
import { startSelfSignedServingPair } from '../src/self-signed-serving-pair';

// The serving pair's generation overlaps the start only when it is sure to be written; a
// --cert-dir that cannot be written still fails first, with upstream's error, before anything
// else (issue #51).

let dir: string;
const logger = {} as KubeletLogger;
const optionsFor = (certDir: string) =>
  ({ flags: { certDir }, config: { serverTLSBootstrap: false } }) as unknown as ResolvedKubeletOptions;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-serving-pair-${process.pid}-`));
  await writeFile(join(dir, 'a-file'), 'not a directory\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('startSelfSignedServingPair', () => {
  it('fails at once, upstream error, when --cert-dir sits under a file', async () => {
    const certDir = join(dir, 'a-file', 'pki');
    await expect(startSelfSignedServingPair(optionsFor(certDir), 'node-a', logger)).rejects.toThrow(
      `--cert-dir: mkdir ${certDir}: not a directory`,
    );
  });

  it('generates in the background into a writable directory; a later start error stays', async () => {
    const certDir = join(dir, 'fresh', 'pki');
    const pair = await startSelfSignedServingPair(optionsFor(certDir), 'node-a', logger);
    // Returned before the keys exist: nothing is written until they do.
    expect(existsSync(certDir)).toBe(false);
    await expect(pair.errorFirst(async () => Promise.reject(new Error('runtime down')))).rejects.toThrow(
      'runtime down',
    );
    const files = await pair.files();
    expect(files?.generated).toBe(true);
    expect((await readdir(certDir)).sort()).toEqual(['kubelet.crt', 'kubelet.key']);
  });

  it('reads an existing pair before returning', async () => {
    const certDir = join(dir, 'fresh', 'pki');
    const pair = await startSelfSignedServingPair(optionsFor(certDir), 'node-a', logger);
    expect((await pair.files())?.generated).toBe(false);
  });

  it('puts a background failure before any later start error', async () => {
    const parent = join(dir, 'raced');
    const pair = await startSelfSignedServingPair(optionsFor(join(parent, 'pki')), 'node-a', logger);
    // After the check passed, before the keys are made: a file where the directory is to go.
    writeFileSync(parent, 'in the way\n');
    const failure = pair.errorFirst(async () => Promise.reject(new Error('runtime down')));
    await expect(failure).rejects.toThrow(`--cert-dir: mkdir ${join(parent, 'pki')}: not a directory`);
    await expect(pair.files()).rejects.toThrow('--cert-dir');
  });

  it('leaves the pair to the configured files', async () => {
    const options = {
      flags: { certDir: join(dir, 'unused') },
      config: { tlsCertFile: '/etc/x.crt', tlsPrivateKeyFile: '/etc/x.key' },
    } as unknown as ResolvedKubeletOptions;
    const pair = await startSelfSignedServingPair(options, 'node-a', logger);
    expect(await pair.files()).toBeUndefined();
    expect(await readdir(dir)).not.toContain('unused');
  });
});
