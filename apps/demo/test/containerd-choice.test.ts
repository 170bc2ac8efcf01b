import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { containerdToolSource } from '../src/agent-bundles-dir';
import { CONTAINERD_ENV, chooseContainerd, containerdLine } from '../src/containerd-choice';
import { InvalidArgumentError } from '../src/errors';

/** An availability check that records whether it was asked. */
const availability = (present: boolean) => vi.fn(() => present);

describe('chooseContainerd (which containerd `npm start` runs)', () => {
  it('runs 2.1 when it is unpacked with its runc, 1.6 when it is not', () => {
    expect(chooseContainerd({}, availability(true))).toEqual({ version: '2.1', why: 'present' });
    expect(chooseContainerd({}, availability(false))).toEqual({ version: '1.6', why: 'absent' });
    // An empty variable is unset, as tools/containerd reads it.
    expect(chooseContainerd({ [CONTAINERD_ENV]: '' }, availability(true))).toEqual({
      version: '2.1',
      why: 'present',
    });
  });

  it('runs what NODEAGENT_CONTAINERD forces, without looking for 2.1', () => {
    const present = availability(true);
    expect(chooseContainerd({ [CONTAINERD_ENV]: '1.6' }, present)).toEqual({ version: '1.6', why: 'forced' });
    const absent = availability(false);
    // A forced 2.1 that is not there is tools/containerd's to refuse (its error names install-deps).
    expect(chooseContainerd({ [CONTAINERD_ENV]: '2.1' }, absent)).toEqual({ version: '2.1', why: 'forced' });
    expect(present).not.toHaveBeenCalled();
    expect(absent).not.toHaveBeenCalled();
  });

  it('refuses any other value, naming the variable and the choices', () => {
    const choose = () => chooseContainerd({ [CONTAINERD_ENV]: '2.0' }, availability(true));
    expect(choose).toThrow(InvalidArgumentError);
    expect(choose).toThrow('NODEAGENT_CONTAINERD: "2.0" is not a containerd the demo runs; use 1.6 or 2.1');
  });

  it('says in one line which runtime and runc run, why, and how to get the other', () => {
    const lines = [
      containerdLine({ version: '2.1', why: 'present' }, '1.3'),
      containerdLine({ version: '1.6', why: 'absent' }, '1.1'),
      containerdLine({ version: '1.6', why: 'forced' }, '1.1'),
    ];
    expect(lines).toEqual([
      "Runtime: containerd 2.1 (Debian unstable's, unpacked by tools/install-deps.mjs) with runc 1.3, found unpacked; NODEAGENT_CONTAINERD=1.6 runs 1.6 instead",
      "Runtime: containerd 1.6 (Debian stable's, installed) with runc 1.1; 2.1 runs once `node tools/install-deps.mjs` (as root) has unpacked it and runc 1.3",
      "Runtime: containerd 1.6 (Debian stable's, installed) with runc 1.1, as NODEAGENT_CONTAINERD=1.6 asks",
    ]);
    for (const line of lines) expect(line).not.toContain('\n');
  });
});

describe('the demo and tools/containerd agree', () => {
  // Loaded by path, as the demo loads tools/containerd (it is a repo tool, not a package).
  const toolsDir = fileURLToPath(new URL('../../../tools/containerd/', import.meta.url));

  it('on the variable and the versions', async () => {
    const tools = (await import(`${toolsDir}containerd-version.ts`)) as {
      CONTAINERD_VERSION_ENV: string;
      CONTAINERD_VERSIONS: readonly string[];
    };
    expect(CONTAINERD_ENV).toBe(tools.CONTAINERD_VERSION_ENV);
    for (const version of tools.CONTAINERD_VERSIONS)
      expect(chooseContainerd({ [CONTAINERD_ENV]: version }, availability(false)).version).toBe(version);
  });

  it('on where availability comes from: the module the demo loads exports containerd21Available', async () => {
    const tools = (await import(containerdToolSource)) as { containerd21Available?: unknown };
    expect(typeof tools.containerd21Available).toBe('function');
  });
});
