import { spawnSync } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUILD_OPTIONS, trainsCodeCache } from './build.mjs';
import { ensureNode24, NODE24_VERSION, REPO_ROOT } from './node-runtime.mjs';
import { sharedSeaExecutable } from './shared-sea';
import { KUBERNETES_VERSION, seaTargets } from './targets.mjs';

interface Built {
  name: string;
  path: string;
  version: string;
}

const appVersion = (app: string): string =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'apps', app, 'package.json'), 'utf8')).version;

/** True when some directory from `dir` up to / holds a node_modules (which would hide a missing bundle dep). */
function nodeModulesAbove(dir: string): string | undefined {
  let d = dir;
  while (true) {
    if (existsSync(join(d, 'node_modules'))) return join(d, 'node_modules');
    if (d === parse(d).root) return undefined;
    d = dirname(d);
  }
}

/** The section names of a 64-bit little-endian ELF file, from its section header table. */
function elfSectionNames(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const read = (offset: number, length: number) => {
      const b = Buffer.alloc(length);
      readSync(fd, b, 0, length, offset);
      return b;
    };
    const header = read(0, 64);
    const shoff = Number(header.readBigUInt64LE(0x28));
    const [entsize, count, strndx] = [
      header.readUInt16LE(0x3a),
      header.readUInt16LE(0x3c),
      header.readUInt16LE(0x3e),
    ];
    const table = read(shoff, entsize * count);
    const strtab = table.subarray(strndx * entsize);
    const names = read(Number(strtab.readBigUInt64LE(0x18)), Number(strtab.readBigUInt64LE(0x20)));
    return Array.from({ length: count }, (_, i) => {
      const at = table.readUInt32LE(i * entsize);
      return names.toString('latin1', at, names.indexOf(0, at));
    });
  } finally {
    closeSync(fd);
  }
}

const SERVICE_YAML = `apiVersion: v1
kind: Service
metadata: { name: sea-check, namespace: default }
spec:
  clusterIP: 10.96.7.7
  clusterIPs: [10.96.7.7]
  ports: [{ name: http, port: 80, protocol: TCP, targetPort: 8080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: sea-check-1
  namespace: default
  labels: { kubernetes.io/service-name: sea-check }
addressType: IPv4
ports: [{ name: http, port: 8080, protocol: TCP }]
endpoints: [{ addresses: [10.244.9.9], conditions: { ready: true } }]
`;

// Takes both executables (built once per run, tools/sea/shared-sea.ts), copies them alone into a
// scratch dir and runs each from there with a scrubbed environment: nothing from the repo
// (node_modules, NODE_PATH) can help them.
describe('single executable binaries', { timeout: 180_000 }, () => {
  const runDir = mkdtempSync(join(tmpdir(), `na-sea-run-${process.pid}-`));
  const built: Built[] = [];

  beforeAll(async () => {
    // One after the other: each build's postject holds ~0.9 GB.
    for (const name of ['nodeagent-kubelet', 'nodeagent-kube-proxy'])
      built.push(await sharedSeaExecutable(name));
    for (const b of built) copyFileSync(b.path, join(runDir, b.name));
  }, 300_000);

  afterAll(() => {
    rmSync(runDir, { recursive: true, force: true });
  });

  const run = (name: string, args: string[], input?: string, env: Record<string, string> = {}) =>
    spawnSync(join(runDir, name), args, {
      cwd: runDir,
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: runDir, ...env },
    });

  it('runs from a directory with no node_modules anywhere above it', () => {
    expect(nodeModulesAbove(runDir)).toBeUndefined();
    expect(built.map((b) => b.name).sort()).toEqual(['nodeagent-kube-proxy', 'nodeagent-kubelet']);
  });

  for (const [name, app] of [
    ['nodeagent-kubelet', 'kubelet'],
    ['nodeagent-kube-proxy', 'kube-proxy'],
  ] as const) {
    it(`${name} --version prints the one line kubeadm parses; --version=raw adds the nodeagent version and the embedded Node 24`, () => {
      const r = run(name, ['--version']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`Kubernetes ${KUBERNETES_VERSION}\n`);
      expect(r.stdout.trim()).toMatch(/^\s*Kubernetes v(\d+\.\d+\.\d+[-\w.+]*)\s*$/);
      const raw = run(name, ['--version=raw']);
      expect(raw.status).toBe(0);
      const [info, ours] = raw.stdout.trimEnd().split('\n');
      expect(info).toBe(
        `version.Info{Major:"1", Minor:"36", GitVersion:"${KUBERNETES_VERSION}", GitCommit:"", GitTreeState:"", BuildDate:"", GoVersion:"", Compiler:"node", Platform:"linux/amd64"}`,
      );
      expect(ours).toBe(`${name} v${appVersion(app)} (node v${NODE24_VERSION}, linux/amd64)`);
    });

    it(`${name} carries no symbol table or debug sections, only the dynamic symbols addons link against`, () => {
      const sections = elfSectionNames(join(runDir, name));
      expect(sections).toContain('.dynsym');
      expect(sections).toContain('.text');
      expect(sections.filter((s) => s === '.symtab' || s === '.strtab' || s.startsWith('.debug'))).toEqual(
        [],
      );
      // The unstripped runtime, for contrast, has them.
      expect(elfSectionNames(ensureNode24().node)).toContain('.symtab');
    });

    it(`${name} --help lists the upstream flags operators pass`, () => {
      const r = run(name, ['--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(`Usage: ${name}`);
      expect(r.stdout).toContain('--config');
      // No deprecation or experimental-feature warnings on a clean start.
      expect(r.stderr).toBe('');
    });

    const trained = seaTargets().some((t) => t.name === name && trainsCodeCache(t, DEFAULT_BUILD_OPTIONS));
    it(`${name} compiles its app from the ${trained ? 'trained' : 'top-level'} code cache the build made (V8 takes it: same Node, same flags)`, () => {
      const r = run(name, ['--help'], undefined, { NODEAGENT_SEA_TRACE: '1' });
      expect(r.status).toBe(0);
      const [source, cache] = r.stderr.split('\n');
      // The default build has V8 read the app's source where the executable is mapped (externalAppSource).
      expect(source).toMatch(/^nodeagent-sea: app source in the executable \(\d{7} bytes\)$/);
      const bytes = Number(/^nodeagent-sea: app code cache accepted \((\d+) bytes\)$/.exec(cache ?? '')?.[1]);
      // Trained, the start's functions too: the kubelet's ~4.0 MB (kube-proxy's would be ~2.1 MB);
      // made before the run (also what a failed training leaves), ~0.9 MB for either.
      if (trained) expect(bytes).toBeGreaterThan(1_500_000);
      else expect(bytes).toBeLessThan(1_500_000);
      expect(bytes).toBeGreaterThan(500_000);
    });
  }

  it('nodeagent-kubelet --help includes the kubelet connection flags', () => {
    const r = run('nodeagent-kubelet', ['--help']);
    expect(r.stdout).toContain('--kubeconfig');
    expect(r.stdout).toContain('--container-runtime-endpoint');
  });

  for (const name of ['nodeagent-kubelet', 'nodeagent-kube-proxy']) {
    it(`deploy/systemd/${name}.service passes systemd-analyze verify and uses only flags the binary has`, () => {
      const unit = readFileSync(join(REPO_ROOT, 'deploy', 'systemd', `${name}.service`), 'utf8');
      const execStart = unit.replace(/\\\n\s*/g, ' ').match(/^ExecStart=(.*)$/m)?.[1] ?? '';
      expect(execStart.split(' ')[0]).toBe(`/usr/local/bin/${name}`);
      const flags = [...execStart.matchAll(/(--[a-z-]+)=/g)].map((m) => m[1]!);
      expect(flags).toContain('--config');
      const help = run(name, ['--help']).stdout;
      for (const flag of flags) expect(help, flag).toMatch(new RegExp(`${flag}[ =<\\[]`));
      expect(unit).toMatch(/^Restart=always$/m);
      expect(unit).toMatch(/^CapabilityBoundingSet=CAP_/m);
      // Verify a copy whose ExecStart points at the built executable (the unit names a path
      // that exists only on installed nodes).
      const unitDir = mkdtempSync(join(tmpdir(), `na-sea-unit-${process.pid}-`));
      try {
        const copy = join(unitDir, `${name}.service`);
        writeFileSync(copy, unit.replace(`/usr/local/bin/${name}`, join(runDir, name)));
        const v = spawnSync('systemd-analyze', ['verify', '--man=no', copy], {
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(v.stderr.split('\n').filter((l) => l.includes(name))).toEqual([]);
        expect(v.status).toBe(0);
      } finally {
        rmSync(unitDir, { recursive: true, force: true });
      }
    });
  }

  it('nodeagent-kube-proxy renders iptables rules from stdin with only its bundled code', () => {
    const r = run('nodeagent-kube-proxy', ['render', '-'], SERVICE_YAML);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('*nat');
    expect(r.stdout).toMatch(/-d 10\.96\.7\.7(\/32)? .*--dport 80/);
    expect(r.stdout).toContain('10.244.9.9:8080');
    expect(r.stdout).toContain('COMMIT');
  });

  it('nodeagent-kube-proxy rejects an invalid flag value with exit 1 and the flag', () => {
    const r = run(
      'nodeagent-kube-proxy',
      ['render', '--iptables-min-sync-period', 'soon', '-'],
      SERVICE_YAML,
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--iptables-min-sync-period: invalid value "soon"');
  });

  // A preload (NODE_OPTIONS runs it at every start of the runtime) reports each start's PID and
  // MALLOC_ARENA_MAX; the unknown flag makes the app exit right after.
  const starts = (name: string, env: Record<string, string> = {}) => {
    const preload = join(runDir, 'report-start.cjs');
    writeFileSync(preload, "console.error('start', process.pid, String(process.env.MALLOC_ARENA_MAX));\n");
    const r = run(name, ['--no-such-flag'], undefined, { NODE_OPTIONS: `--require ${preload}`, ...env });
    expect(r.status).toBe(1);
    return r.stderr.split('\n').filter((l) => l.startsWith('start '));
  };

  // The units set MALLOC_ARENA_MAX (deploy/systemd); the executables never execute themselves
  // again to set it or anything else.
  it.each(['nodeagent-kubelet', 'nodeagent-kube-proxy'])(
    '%s starts once and keeps MALLOC_ARENA_MAX as its environment gives it',
    (name) => {
      expect(starts(name)).toEqual([expect.stringMatching(/^start \d+ undefined$/)]);
      expect(starts(name, { MALLOC_ARENA_MAX: '1' })).toEqual([expect.stringMatching(/^start \d+ 1$/)]);
    },
  );
});
