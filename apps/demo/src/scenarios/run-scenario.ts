import { type KubeProxyMissingOptions, kubeProxyMissing } from './kube-proxy-missing';
import { type KubeletMissingOptions, kubeletMissing } from './kubelet-missing';
import { narrate } from './narration';
import type { ScenarioEvent } from './scenario-events';

export const SCENARIOS = ['kubelet-missing', 'kube-proxy-missing'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export type ScenarioSettings =
  | ({ scenario: 'kubelet-missing' } & KubeletMissingOptions)
  | ({ scenario: 'kube-proxy-missing' } & KubeProxyMissingOptions);

export interface ScenarioRun {
  events: ScenarioEvent[];
  /** What did not happen as upstream's behaviour says it should (empty: it all did). */
  problems: string[];
}

/** Runs a scenario, printing one narration line per event as it is observed. */
export async function runScenario(
  settings: ScenarioSettings,
  write: (line: string) => void,
): Promise<ScenarioRun> {
  const run: ScenarioRun = { events: [], problems: [] };
  const events =
    settings.scenario === 'kubelet-missing' ? kubeletMissing(settings) : kubeProxyMissing(settings);
  try {
    for await (const event of events) {
      run.events.push(event);
      if (event.type === 'problem') run.problems.push(event.what);
      write(`${narrate(event)}\n`);
    }
  } catch (error) {
    run.problems.push((error as Error).message);
    write(`  ✘ ${(error as Error).message}\n`);
  }
  return run;
}
