import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container } from '../src/api/pod-types';
import { EnvFileSyntaxError, envFileValue } from '../src/env/env-file';
import { FileKeyRefError, resolveFileKeyRef } from '../src/env/file-key-ref';
import { resolveEnv } from '../src/env/resolve-env';
import { makePod } from './helpers/fixtures';

function syntaxReason(text: string, key: string): string {
  try {
    envFileValue(text, key);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvFileSyntaxError);
    return (error as EnvFileSyntaxError).reason;
  }
  throw new Error('expected a syntax error');
}

describe('envFileValue (upstream ParseEnv, v1.36)', () => {
  it('reads single-quoted values literally, across lines, skipping comments and leading blanks', () => {
    const text = `# made by init\n\n   A='one'\n\tB='$HOME \${X} "q" #no'  # trailing\nC='two\n\n  lines'\nD=''\n`;
    expect(envFileValue(text, 'A')).toBe('one');
    expect(envFileValue(text, 'B')).toBe(`$HOME \${X} "q" #no`);
    expect(envFileValue(text, 'C')).toBe('two\n\n  lines');
    expect(envFileValue(text, 'D')).toBe('');
    expect(envFileValue(text, 'E')).toBeUndefined();
  });

  it('refuses what a shell would read differently, naming the line', () => {
    // The fixture's env-file pod wrote exactly this line; upstream's kubelet refused it.
    expect(syntaxReason('GREETING=hello-from-file\n', 'GREETING')).toBe(
      'invalid environment variable format at line 1: value must be enclosed in single quotes',
    );
    expect(syntaxReason(`A='x'\nB="y"\n`, 'B')).toContain(
      'at line 2: value must be enclosed in single quotes',
    );
    expect(syntaxReason(`A = 'x'\n`, 'A')).toContain("whitespace before '=' is not allowed");
    expect(syntaxReason(`A='x'\nNOEQUALS\nB='y'\n`, 'B')).toBe(
      'invalid environment variable format at line 2',
    );
    expect(syntaxReason(`='x'\n`, 'A')).toBe('invalid environment variable format at line 1');
    expect(syntaxReason(`A='x''y'\n`, 'A')).toContain('unexpected content after closing quote');
    // An unclosed quote swallows the next line up to its first quote; what follows is refused.
    expect(syntaxReason(`A='x'\nB='y\nC='z'\n`, 'B')).toContain(
      'at line 3: unexpected content after closing quote',
    );
    // Lines before the key are checked too; lines after it are not read.
    expect(envFileValue(`A='x'\nbroken\n`, 'A')).toBe('x');
  });
});

describe('fileKeyRef (EnvFiles)', () => {
  let dir: string;
  let volume: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'h9-envfile-'));
    volume = join(dir, 'volume');
    await mkdir(volume);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const volumes = () => new Map([['data', volume]]);

  async function failure(promise: Promise<unknown>): Promise<FileKeyRefError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FileKeyRefError);
    return error as FileKeyRefError;
  }

  it('gives the value to the container env through resolveEnv, after earlier variables', async () => {
    await writeFile(join(volume, 'config.env'), "GREETING='hello-from-file'\n");
    const container: Container = {
      name: 'c',
      image: 'busybox',
      env: [
        { name: 'FIRST', value: 'x' },
        {
          name: 'GREETING',
          valueFrom: { fileKeyRef: { volumeName: 'data', path: 'config.env', key: 'GREETING' } },
        },
        { name: 'USE', value: '$(GREETING)!' },
      ],
    };
    const env = await resolveEnv(makePod(), container, {
      objects: { getConfigMap: async () => undefined, getSecret: async () => undefined },
      nodeName: 'n1',
      hostIPs: ['10.0.0.1'],
      podIPs: ['10.1.0.2'],
      volumeHostPaths: volumes(),
    });
    expect(env).toEqual([
      { key: 'FIRST', value: 'x' },
      { key: 'GREETING', value: 'hello-from-file' },
      { key: 'USE', value: 'hello-from-file!' },
    ]);
  });

  it("reports upstream's texts: unparsable or missing file, missing key, unknown volume", async () => {
    await writeFile(join(volume, 'config.env'), 'GREETING=hello-from-file\n');
    const ref = { volumeName: 'data', path: 'config.env', key: 'GREETING' };
    expect((await failure(resolveFileKeyRef(ref, 'env[0]', volumes()))).message).toBe(
      "couldn't parse env file",
    );
    // A missing file is the same failure even when optional.
    const missing = resolveFileKeyRef({ ...ref, path: 'nope.env', optional: true }, 'env[0]', volumes());
    expect((await failure(missing)).message).toBe("couldn't parse env file");

    await writeFile(join(volume, 'config.env'), "OTHER='1'\nEMPTY=''\n");
    const absent = await failure(resolveFileKeyRef({ ...ref, key: 'ABSENT' }, 'env[0]', volumes()));
    expect(absent.message).toBe(
      `environment variable key "ABSENT" not found in file "${join(volume, 'config.env')}"`,
    );
    expect(absent.field).toBe('env[0].key');
    expect(
      await resolveFileKeyRef({ ...ref, key: 'ABSENT', optional: true }, 'env[0]', volumes()),
    ).toBeUndefined();
    expect(
      await resolveFileKeyRef({ ...ref, key: 'EMPTY', optional: true }, 'env[0]', volumes()),
    ).toBeUndefined();

    const other = await failure(resolveFileKeyRef({ ...ref, volumeName: 'other' }, 'env[0]', volumes()));
    expect(other.message).toBe('cannot find the volume "other" referenced by FileKeyRef');
  });

  it('never reads outside the volume: .. and absolute links resolve inside it', async () => {
    await writeFile(join(dir, 'secret.env'), "KEY='outside'\n");
    await writeFile(join(volume, 'secret.env'), "KEY='inside'\n");
    await symlink('/../secret.env', join(volume, 'link.env'));
    await symlink('../secret.env', join(volume, 'relative-link.env'));
    const ref = (path: string) => ({ volumeName: 'data', path, key: 'KEY' });
    expect(await resolveFileKeyRef(ref('../secret.env'), 'env[0]', volumes())).toBe('inside');
    expect(await resolveFileKeyRef(ref('link.env'), 'env[0]', volumes())).toBe('inside');
    expect(await resolveFileKeyRef(ref('relative-link.env'), 'env[0]', volumes())).toBe('inside');
  });
});
