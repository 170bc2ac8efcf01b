import { InvalidArgumentError } from '../errors';
import { SCENARIOS, type ScenarioName } from './run-scenario';

/** The command-line settings of `--scenario` and the timings it shortens (defaults: upstream v1.34's). */
export interface ScenarioOptions {
  scenario: ScenarioName | undefined;
  /** tolerationSeconds of the scenario pods for the unreachable/not-ready NoExecute taints. Default 300. */
  tolerationSeconds: number;
  /** The node lifecycle controller's --node-monitor-grace-period. Default 50 s (upstream since v1.32). */
  nodeMonitorGracePeriodSeconds: number;
  /** Its --node-monitor-period. Default 5 s. */
  nodeMonitorPeriodSeconds: number;
  /** The kubelets' nodeLeaseDurationSeconds (they renew every quarter of it). Default 40 s. */
  nodeLeaseDurationSeconds: number;
}

export const scenarioUsage = `  --scenario <name>      after the box is up, stop an agent on one node and narrate what happens:
                         kubelet-missing or kube-proxy-missing (needs --nodes 2 or more, containerd)
  --toleration-seconds <s>         scenario pods' tolerationSeconds for unreachable (default 300)
  --node-monitor-grace-period <s>  node lifecycle controller's grace period (default 50)
  --node-monitor-period <s>        how often it checks the nodes (default 5)
  --node-lease-duration <s>        kubelets' nodeLeaseDurationSeconds, renewed every quarter (default 40)
`;

/** parseArgs entries for these flags (all strings). */
export const scenarioArgs = {
  scenario: { type: 'string' },
  'toleration-seconds': { type: 'string' },
  'node-monitor-grace-period': { type: 'string' },
  'node-monitor-period': { type: 'string' },
  'node-lease-duration': { type: 'string' },
} as const;

function seconds(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(flag, text, 'is not a positive integer');
  return value;
}

export function parseScenarioOptions(
  values: Record<string, string | boolean | undefined>,
  context: { nodes: number; fakeRuntime: boolean },
): ScenarioOptions {
  const name = values.scenario as string | undefined;
  if (name !== undefined && !(SCENARIOS as readonly string[]).includes(name)) {
    throw new InvalidArgumentError('--scenario', name, `must be ${SCENARIOS.join(' or ')}`);
  }
  const options: ScenarioOptions = {
    scenario: name as ScenarioName | undefined,
    tolerationSeconds: seconds(
      '--toleration-seconds',
      values['toleration-seconds'] as string | undefined,
      300,
    ),
    nodeMonitorGracePeriodSeconds: seconds(
      '--node-monitor-grace-period',
      values['node-monitor-grace-period'] as string | undefined,
      50,
    ),
    nodeMonitorPeriodSeconds: seconds(
      '--node-monitor-period',
      values['node-monitor-period'] as string | undefined,
      5,
    ),
    nodeLeaseDurationSeconds: seconds(
      '--node-lease-duration',
      values['node-lease-duration'] as string | undefined,
      40,
    ),
  };
  // A live kubelet renews every quarter of the lease duration: a grace period not longer than
  // that would mark healthy nodes Unknown between two renewals.
  if (options.nodeLeaseDurationSeconds / 4 >= options.nodeMonitorGracePeriodSeconds) {
    throw new InvalidArgumentError(
      '--node-monitor-grace-period',
      options.nodeMonitorGracePeriodSeconds,
      `must be longer than the kubelets' renew interval (a quarter of --node-lease-duration ${options.nodeLeaseDurationSeconds})`,
    );
  }
  if (name !== undefined && context.nodes < 2) {
    throw new InvalidArgumentError(
      '--scenario',
      name,
      'needs --nodes 2 or more (pods must have somewhere else to go)',
    );
  }
  if (name !== undefined && context.fakeRuntime) {
    throw new InvalidArgumentError(
      '--scenario',
      name,
      'needs containerd: the fake runtime has no processes or packets',
    );
  }
  return options;
}
