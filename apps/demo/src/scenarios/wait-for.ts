import { DemoError } from '../errors';
import type { ScenarioClock } from './scenario-box';

/** An effect the scenario waits for did not show within its time limit (which only guards a hang). */
export class ScenarioTimeoutError extends DemoError {
  constructor(what: string, timeoutMs: number, lastSeen: unknown) {
    super(
      'SCENARIO_TIMEOUT',
      what,
      lastSeen,
      `not observed within ${Math.round(timeoutMs / 1000)} s${lastSeen === undefined ? '' : ` (last seen: ${JSON.stringify(lastSeen)})`}`,
    );
  }
}

/** An agent the scenario restarted died while the scenario waited for what it should do. */
export class AgentExitedError extends DemoError {
  constructor(agent: string, node: string, why: string) {
    super('AGENT_EXITED', agent, node, `on ${node} ${why}`);
  }
}

/** Throws AgentExitedError if the node's restarted agent is gone. */
export function checkAgent(
  node: { name: string; agentExited?(agent: 'kubelet' | 'kube-proxy'): string | undefined },
  agent: 'kubelet' | 'kube-proxy',
): void {
  const why = node.agentExited?.(agent);
  if (why) throw new AgentExitedError(agent, node.name, why);
}

/**
 * Polls `probe` until it returns a value (not undefined). Conditions, not sleeps: the time limit
 * only stops a scenario that would otherwise hang.
 */
export async function waitFor<T>(
  clock: ScenarioClock,
  what: string,
  timeoutMs: number,
  pollMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  lastSeen: () => unknown = () => undefined,
): Promise<T> {
  const deadline = clock.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (clock.now() >= deadline) throw new ScenarioTimeoutError(what, timeoutMs, lastSeen());
    await clock.sleep(pollMs);
  }
}
