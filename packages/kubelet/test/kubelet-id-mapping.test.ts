import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultKubeletIdMapping,
  parseGetSubIdsOutput,
  readKubeletIdMapping,
  type SubIdsCommandFailure,
  type SubIdsCommandRunner,
  subIdsCommandRunner,
} from '../src/cri/kubelet-id-mapping';
import { UserNamespaceAllocator, UserNamespaceError } from '../src/cri/user-namespaces';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A failed command as execFile reports it: an exit status, or the spawn error code. */
const failure = (code: number | string, stderr = ''): SubIdsCommandFailure =>
  Object.assign(new Error(`Command failed with ${code}`), { code, stderr });
const absent = failure('ENOENT');
const notFound = failure(2);

/** Answers each `file args...` from the table (stdout, or a failure) and records the calls. */
function fakeHost(answers: Record<string, string | SubIdsCommandFailure>) {
  const calls: string[] = [];
  const run: SubIdsCommandRunner = async (file, args) => {
    const command = [file, ...args].join(' ');
    calls.push(command);
    const answer = answers[command];
    if (answer === undefined) throw new Error(`unexpected command ${command}`);
    if (typeof answer !== 'string') throw answer;
    return answer;
  };
  return { run, calls };
}

async function caught(work: () => Promise<unknown>): Promise<UserNamespaceError> {
  try {
    await work();
  } catch (error) {
    expect(error).toBeInstanceOf(UserNamespaceError);
    return error as UserNamespaceError;
  }
  throw new Error('did not throw');
}

const kubeletAccount = 'kubelet:x:999:999::/var/lib/kubelet:/usr/sbin/nologin\n';
const withRange = (line: string, gidLine = line) => ({
  'getent passwd kubelet': kubeletAccount,
  'getsubids kubelet': line,
  'getsubids -g kubelet': gidLine,
});

describe('the kubelet ID range (upstream v1.36 getKubeletMappings)', () => {
  it('is idsPerPod..2^32 without a kubelet account, and getsubids is not asked', async () => {
    const host = fakeHost({ 'getent passwd kubelet': notFound });
    expect(await readKubeletIdMapping({ run: host.run })).toEqual({ firstId: 65536, length: 4294901760 });
    expect(host.calls).toEqual(['getent passwd kubelet']);
    // The default follows idsPerPod, so a larger idsPerPod still starts (its first ID is a multiple).
    const mapping = await readKubeletIdMapping({ run: host.run, idsPerPod: 131072 });
    expect(mapping).toEqual(defaultKubeletIdMapping(131072));
    expect(mapping).toEqual({ firstId: 131072, length: 4294836224 });
    const allocator = await UserNamespaceAllocator.create({
      idsPerPod: 131072,
      kubeletMapping: mapping,
      maxPods: 110,
      podsDir: join(tmpdir(), 'na-userns-none'),
    });
    expect(allocator.idsPerPod).toBe(131072);
  });

  it('takes the single range getsubids prints for both UIDs and GIDs', async () => {
    const host = fakeHost(withRange('0: kubelet 65536 7208960\n'));
    expect(await readKubeletIdMapping({ run: host.run })).toEqual({ firstId: 65536, length: 7208960 });
    expect(host.calls).toEqual(['getent passwd kubelet', 'getsubids kubelet', 'getsubids -g kubelet']);
  });

  it('reads /etc/passwd for the account when getent is not installed', async () => {
    const none = fakeHost({ 'getent passwd kubelet': absent });
    const root = 'root:x:0:0::/root:/bin/sh\n';
    expect(await readKubeletIdMapping({ run: none.run, readPasswd: async () => root })).toEqual(
      defaultKubeletIdMapping(),
    );
    const some = fakeHost({ ...withRange('0: kubelet 196608 7208960\n'), 'getent passwd kubelet': absent });
    const mapping = await readKubeletIdMapping({
      run: some.run,
      readPasswd: async () => root + kubeletAccount,
    });
    expect(mapping).toEqual({ firstId: 196608, length: 7208960 });
    const unreadable = await caught(() =>
      readKubeletIdMapping({
        run: none.run,
        readPasswd: () => Promise.reject(new Error('ENOENT: no such file or directory')),
      }),
    );
    expect(unreadable).toMatchObject({
      field: '/etc/passwd',
      reason: 'open /etc/passwd: ENOENT: no such file or directory',
    });
  });

  it('stops when the account lookup itself fails (not "no such account")', async () => {
    const error = await caught(() =>
      readKubeletIdMapping({
        run: fakeHost({ 'getent passwd kubelet': failure(1, 'nss: backend down') }).run,
      }),
    );
    expect(error).toMatchObject({
      field: 'getent',
      reason: 'user: lookup username kubelet: exit status 1: nss: backend down',
    });
  });

  it('stops, naming getsubids and the uidmap package, when the account exists but getsubids is not installed', async () => {
    const host = fakeHost({ 'getent passwd kubelet': kubeletAccount, 'getsubids kubelet': absent });
    const error = await caught(() => readKubeletIdMapping({ run: host.run }));
    expect(error.field).toBe('getsubids');
    expect(error.reason).toBe(
      'exec: "getsubids": executable file not found in $PATH (install the uidmap package, which provides getsubids, or remove the kubelet user)',
    );
  });

  it("stops when getsubids has no range for the account, with upstream's words", async () => {
    const noUids = fakeHost({
      'getent passwd kubelet': kubeletAccount,
      'getsubids kubelet': failure(1, 'Error fetching ranges\n'),
    });
    expect((await caught(() => readKubeletIdMapping({ run: noUids.run }))).reason).toBe(
      'error retrieving additional uids for user "kubelet": exit status 1: Error fetching ranges',
    );
    const gidsDown = fakeHost({
      'getent passwd kubelet': kubeletAccount,
      'getsubids kubelet': '0: kubelet 65536 65536\n',
      'getsubids -g kubelet': failure(1, 'Error fetching ranges\n'),
    });
    expect((await caught(() => readKubeletIdMapping({ run: gidsDown.run }))).reason).toBe(
      'error retrieving additional gids for user "kubelet"',
    );
  });

  it('names the timeout when getsubids hangs (a remote NSS source that does not answer)', async () => {
    const hung = Object.assign(failure('SIGTERM'), { killed: true });
    const host = fakeHost({ 'getent passwd kubelet': kubeletAccount, 'getsubids kubelet': hung });
    expect((await caught(() => readKubeletIdMapping({ run: host.run }))).reason).toBe(
      'error retrieving additional uids for user "kubelet": killed after 30s',
    );
  });

  it('refuses different UID and GID ranges', async () => {
    const host = fakeHost(withRange('0: kubelet 65536 7208960\n', '0: kubelet 131072 7208960\n'));
    expect(await caught(() => readKubeletIdMapping({ run: host.run }))).toMatchObject({
      field: 'getsubids',
      value: 'kubelet',
      reason: 'mismatched subuids and subgids for user "kubelet"',
    });
  });

  it.each([
    [
      '0: kubelet 65536 65536\n1: kubelet 196608 65536\n',
      'error parsing line "0: kubelet 65536 65536\\n1: kubelet 196608 65536\\n": it must contain only one line',
    ],
    ['', 'invalid line ""'],
    ['0: kubelet 65536\n', 'invalid line "0: kubelet 65536\\n"'],
    [
      '0: kubelet x 65536\n',
      'error parsing line "0: kubelet x 65536\\n": strconv.ParseUint: parsing "x": invalid syntax',
    ],
    [
      '0: kubelet 65536 4294967296\n',
      'error parsing line "0: kubelet 65536 4294967296\\n": strconv.ParseUint: parsing "4294967296": value out of range',
    ],
  ])('refuses getsubids output %j with upstream parseGetSubIdsOutput words', async (output, reason) => {
    expect(() => parseGetSubIdsOutput(output)).toThrow(UserNamespaceError);
    expect(await caught(() => readKubeletIdMapping({ run: fakeHost(withRange(output)).run }))).toMatchObject({
      field: 'getsubids',
      reason,
    });
  });

  it.each([
    ['0: kubelet 100000 7208960\n', 'kubelet user assigned ID 100000 is not a multiple of 65536'],
    ['0: kubelet 0 7208960\n', 'kubelet user assigned ID 0 must be greater or equal to 65536'],
    ['0: kubelet 65536 100000\n', 'kubelet user assigned IDs length 100000 is not a multiple of 65536'],
    ['0: kubelet 65536 6553600\n', 'kubelet user assigned IDs are not enough to support 110 pods'],
  ])(
    'a range %j that cannot serve maxPods stops the kubelet (upstream MakeUserNsManager)',
    async (output, reason) => {
      const kubeletMapping = await readKubeletIdMapping({ run: fakeHost(withRange(output)).run });
      const error = await caught(() =>
        UserNamespaceAllocator.create({
          kubeletMapping,
          maxPods: 110,
          podsDir: join(tmpdir(), 'na-userns-none'),
        }),
      );
      expect(error.reason).toBe(reason);
    },
  );
});

describe('the kubelet ID range from real commands on PATH (fake getent and getsubids scripts)', () => {
  async function binDir(scripts: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'na-subids-'));
    dirs.push(dir);
    for (const [name, body] of Object.entries(scripts)) {
      await writeFile(join(dir, name), `#!/bin/sh\n${body}\n`);
      await chmod(join(dir, name), 0o755);
    }
    return dir;
  }
  const getent = '[ "$1 $2" = "passwd kubelet" ] && echo "kubelet:x:999:999::/:/bin/false" && exit 0; exit 2';

  it('runs getsubids kubelet and getsubids -g kubelet through execFile', async () => {
    const dir = await binDir({
      getent,
      getsubids: 'if [ "$1" = "-g" ]; then user="$2"; else user="$1"; fi\necho "0: $user 1048576 8388608"',
    });
    const run = subIdsCommandRunner({ PATH: dir });
    expect(await readKubeletIdMapping({ run })).toEqual({ firstId: 1048576, length: 8388608 });
  });

  it('a missing getsubids is the typed error; a missing account is the default range', async () => {
    const onlyGetent = await binDir({ getent });
    const error = await caught(() =>
      readKubeletIdMapping({ run: subIdsCommandRunner({ PATH: onlyGetent }) }),
    );
    expect(error.reason).toMatch(/^exec: "getsubids": executable file not found in \$PATH/);
    const noAccount = await binDir({ getent: 'exit 2', getsubids: 'exit 1' });
    expect(await readKubeletIdMapping({ run: subIdsCommandRunner({ PATH: noAccount }) })).toEqual(
      defaultKubeletIdMapping(),
    );
  });

  it('getsubids exiting 1 (no range for the account) is reported with its stderr', async () => {
    const dir = await binDir({ getent, getsubids: 'echo "Error fetching ranges" >&2; exit 1' });
    const error = await caught(() => readKubeletIdMapping({ run: subIdsCommandRunner({ PATH: dir }) }));
    expect(error.reason).toBe(
      'error retrieving additional uids for user "kubelet": exit status 1: Error fetching ranges',
    );
  });
});
