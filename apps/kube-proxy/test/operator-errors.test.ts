import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiServerConfig, buildProgram, NoApiServerError, SERVICE_ACCOUNT_TOKEN } from '../src/index';

// An operator's first mistakes: each is answered with an exit code of 1 and one line per problem
// naming the flag or field and the value, and no stack trace (that only at -v=4 and above).

const dir = mkdtempSync(join(tmpdir(), `na-kp-operr-${process.pid}-`));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(args: string[]) {
  let err = '';
  const program = buildProgram({ stdout: () => undefined, stderr: (t) => (err += t) });
  let code: number | undefined;
  try {
    await program.parseAsync(['node', 'kube-proxy', ...args]);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  }
  return { code: code ?? program.exitCode ?? 0, lines: err.trimEnd().split('\n') };
}

// No in-cluster environment for these runs, whatever the machine running the tests has.
const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
beforeEach(() => {
  delete process.env.KUBERNETES_SERVICE_HOST;
  delete process.env.KUBERNETES_SERVICE_PORT;
});
afterEach(() => {
  if (saved.host !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.host;
  if (saved.port !== undefined) process.env.KUBERNETES_SERVICE_PORT = saved.port;
});

const missing = join(dir, 'does-not-exist.yaml');
const typo = file(
  'typo.yaml',
  [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    'mode: nftabels',
    'iptables:',
    '  syncPeriod: 5',
    'conntrack:',
    '  min: lots',
    'clusterCIDR: 10.0.0.0/33',
    'bogus: 1',
    'alsoBogus: 2',
    '',
  ].join('\n'),
);
const notYaml = file('not-yaml.yaml', 'kind: KubeProxyConfiguration\nmode: [iptables\nsecret: hunter2\n');

const CASES: { name: string; args: string[]; lines: (string | RegExp)[] }[] = [
  {
    name: 'a missing --config file',
    args: ['--config', missing],
    lines: [`error: --config: cannot read ${JSON.stringify(missing)}: no such file or directory`],
  },
  {
    name: 'a --config that is a directory',
    args: ['--config', dir],
    lines: [`error: --config: cannot read ${JSON.stringify(dir)}: is a directory`],
  },
  {
    name: 'a missing --kubeconfig file',
    args: ['--kubeconfig', missing, '--hostname-override', 'n1'],
    lines: [`error: --kubeconfig: cannot read ${JSON.stringify(missing)}: no such file or directory`],
  },
  {
    name: 'no kubeconfig, no --master, not in a cluster',
    args: ['--hostname-override', 'n1'],
    lines: [
      'error: neither --kubeconfig nor --master was given, and the in-cluster configuration is unusable: unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    ],
  },
  {
    name: 'every problem of a config file at once, each once',
    args: ['--config', typo, '--write-config-to', join(dir, 'out.yaml')],
    lines: [
      /^invalid configuration: iptables\.syncPeriod: invalid value 5: /,
      /^invalid configuration: conntrack\.min: invalid value "lots": /,
      /^invalid configuration: bogus: invalid value 1: unknown field$/,
      /^invalid configuration: alsoBogus: invalid value 2: unknown field$/,
      /^invalid configuration: mode: invalid value "nftabels": must be one of /,
      /^invalid configuration: clusterCIDR: invalid value "10\.0\.0\.0\/33": /,
    ],
  },
  {
    name: 'a config file that is not YAML, not echoed back',
    args: ['--config', notYaml],
    lines: [
      new RegExp(
        `^invalid configuration: --config: invalid value "${notYaml}": .* at line \\d+, column \\d+$`,
      ),
    ],
  },
  {
    name: 'an unknown flag, once',
    args: ['--proxy-mod', 'iptables'],
    lines: ["error: unknown option '--proxy-mod' (did you mean --proxy-mode?)"],
  },
  {
    name: 'bad flag values, one line each, with the configuration problems',
    args: [
      '--bind-address',
      'banana',
      '--healthz-bind-address',
      '10.0.0.1:99999',
      '--proxy-mode',
      'kernelspace',
    ],
    lines: [
      'invalid configuration: --bind-address: invalid value "banana": not a valid IP address',
      'invalid configuration: --healthz-bind-address: invalid value "10.0.0.1:99999": not a valid port',
      /^invalid configuration: mode: invalid value "kernelspace": must be one of /,
    ],
  },
  {
    name: 'a --cleanup that is not a boolean',
    args: ['--cleanup=maybe'],
    lines: ['invalid configuration: --cleanup: invalid value "maybe": not a boolean (true or false)'],
  },
  {
    name: 'an empty --hostname-override',
    args: ['--hostname-override', '  ', '--write-config-to', join(dir, 'out.yaml')],
    lines: [
      'invalid configuration: --hostname-override: invalid value "  ": empty hostname-override is invalid',
    ],
  },
];

describe('operator errors: exit code and one line per problem, no stack trace', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const r = await run(c.args);
      expect(r.code).toBe(1);
      expect(r.lines).toHaveLength(c.lines.length);
      r.lines.forEach((line, i) => {
        const want = c.lines[i]!;
        if (typeof want === 'string') expect(line).toBe(want);
        else expect(line).toMatch(want);
      });
      expect(r.lines.join('\n')).not.toMatch(/^\s+at /m);
    });
  }

  it('-v=4 adds the stack trace', async () => {
    const r = await run(['--kubeconfig', missing, '--hostname-override', 'n1', '-v=4']);
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe(
      `error: --kubeconfig: cannot read ${JSON.stringify(missing)}: no such file or directory`,
    );
    expect(r.lines.join('\n')).toMatch(/^\s+at /m);
  });
});

describe('the API server, chosen as upstream createClient does', () => {
  it('in a cluster: the service account (environment and token)', () => {
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const r = apiServerConfig({ kubeconfigPath: '', env, fileExists: (p) => p === SERVICE_ACCOUNT_TOKEN });
    expect(r.inCluster).toBe(true);
    expect(() => apiServerConfig({ kubeconfigPath: '', env, fileExists: () => false })).toThrow(
      NoApiServerError,
    );
  });

  it('--master alone: that server, no credentials; with a kubeconfig: its server replaced', () => {
    const alone = apiServerConfig({ kubeconfigPath: '', master: 'https://10.0.0.1:6443', env: {} });
    expect(alone.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
    const kc = file(
      'kc.yaml',
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://192.0.2.1:6443"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
    expect(apiServerConfig({ kubeconfigPath: kc, env: {} }).kubeConfig.getCurrentCluster()?.server).toBe(
      'https://192.0.2.1:6443',
    );
    const over = apiServerConfig({ kubeconfigPath: kc, master: 'https://10.0.0.2:6443', env: {} });
    expect(over.kubeConfig.getCurrentCluster()?.server).toBe('https://10.0.0.2:6443');
  });
});
