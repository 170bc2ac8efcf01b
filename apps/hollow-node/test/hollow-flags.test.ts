import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HollowNodeFlagError, parseHollowNodeFlags } from '../src/index';

const run = (argv: string[]) => {
  const command = parseHollowNodeFlags(argv);
  if (!('run' in command)) throw new Error('expected a run');
  return command.run;
};

/** The one-line message a bad command line gets. */
function refusal(argv: string[]): string {
  try {
    parseHollowNodeFlags(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(HollowNodeFlagError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${argv.join(' ')}`);
}

describe('nodeagent-hollow-node flags', () => {
  it('defaults: one node named hollow-node-0, 110 pods, both halves, no report timer, no waves, one worker', () => {
    expect(run(['--kubeconfig', '/k'])).toEqual({
      kubeconfig: '/k',
      nodes: 1,
      namePrefix: 'hollow-node-',
      maxPods: 110,
      morph: 'both',
      reportAfterMs: undefined,
      clientCertificates: false,
      restartEveryMs: undefined,
      restartPercent: 10,
      // A worker thread per core, never more than nodes.
      workers: 1,
      contentType: 'application/vnd.kubernetes.protobuf',
    });
    expect(run(['--kubeconfig', '/k', '--nodes', '100']).workers).toBe(Math.min(availableParallelism(), 100));
    expect(run(['--kubeconfig', '/k', '--nodes', '3', '--workers', '8']).workers).toBe(3);
  });

  it('reads every flag', () => {
    expect(
      run([
        '--kubeconfig=/k',
        '--nodes',
        '50',
        '--name-prefix',
        'hn-',
        '--max-pods',
        '30',
        '--morph',
        'proxy',
        '--report-after',
        '1m30s',
        '--client-certificates',
        '--restart-every',
        '2m',
        '--restart-percent',
        '25',
        '--workers',
        '0',
        '--kube-api-content-type',
        'application/json',
      ]),
    ).toEqual({
      kubeconfig: '/k',
      nodes: 50,
      namePrefix: 'hn-',
      maxPods: 30,
      morph: 'proxy',
      reportAfterMs: 90_000,
      clientCertificates: true,
      restartEveryMs: 120_000,
      restartPercent: 25,
      workers: 0,
      contentType: 'application/json',
    });
  });

  it.each([
    [['--nodes', '3'], '--kubeconfig: is required'],
    [
      ['--kubeconfig', '/k', '--nodes', 'abc'],
      'invalid value "abc" for flag --nodes: must be a whole number from 1 to 16384',
    ],
    [
      ['--kubeconfig', '/k', '--nodes', '0'],
      'invalid value "0" for flag --nodes: must be a whole number from 1 to 16384',
    ],
    [
      ['--kubeconfig', '/k', '--nodes', '16385'],
      'invalid value "16385" for flag --nodes: must be a whole number from 1 to 16384',
    ],
    [
      ['--kubeconfig', '/k', '--max-pods=-1'],
      'invalid value "-1" for flag --max-pods: must be a whole number from 0 to 100000',
    ],
    [
      ['--kubeconfig', '/k', '--morph', 'kubemark'],
      'invalid value "kubemark" for flag --morph: must be kubelet, proxy or both',
    ],
    [
      ['--kubeconfig', '/k', '--name-prefix', 'Hollow_'],
      'invalid value "Hollow_" for flag --name-prefix: node names <prefix><i> must be lowercase RFC 1123 names',
    ],
    [
      ['--kubeconfig', '/k', '--report-after', 'soon'],
      'invalid value "soon" for flag --report-after: must be a duration such as "90s" or "5m"',
    ],
    [
      ['--kubeconfig', '/k', '--report-after', '0s'],
      'invalid value "0s" for flag --report-after: must be longer than 0',
    ],
    [
      ['--kubeconfig', '/k', '--restart-every', '0s'],
      'invalid value "0s" for flag --restart-every: must be longer than 0',
    ],
    [
      ['--kubeconfig', '/k', '--restart-percent', '0'],
      'invalid value "0" for flag --restart-percent: must be a whole number from 1 to 100',
    ],
    [
      ['--kubeconfig', '/k', '--restart-percent', '101'],
      'invalid value "101" for flag --restart-percent: must be a whole number from 1 to 100',
    ],
    [
      ['--kubeconfig', '/k', '--workers', '65'],
      'invalid value "65" for flag --workers: must be a whole number from 0 to 64',
    ],
    [
      ['--kubeconfig', '/k', '--kube-api-content-type', 'application/yaml'],
      'invalid value "application/yaml" for flag --kube-api-content-type: must be application/vnd.kubernetes.protobuf or application/json',
    ],
    [['--kubeconfig', '/k', '--pods', '3'], '--pods: unknown flag'],
    [['--kubeconfig'], '--kubeconfig: flag needs an argument'],
    [
      ['--kubeconfig', '/k', '--max-pods', '-1'],
      '--max-pods: a value starting with "-" is given as flag=value',
    ],
    [
      ['--kubeconfig', '/k', 'extra'],
      'invalid value "extra" for flag argument: the hollow node takes flags only',
    ],
  ])('%j is refused: %s', (argv, message) => {
    expect(refusal(argv)).toBe(message);
  });

  it('--help and --version need no kubeconfig', () => {
    expect(parseHollowNodeFlags(['--help'])).toEqual({ help: true });
    expect(parseHollowNodeFlags(['--version'])).toEqual({ version: true });
  });
});
