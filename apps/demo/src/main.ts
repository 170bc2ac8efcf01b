/**
 * `npm start` → tools/start.mjs → here. Exit codes: 0 the show worked, 1 it did not (the output
 * says what), 2 it could not start (bad arguments, missing prerequisites, already running).
 */
import { bundledAgentEntries, prebuiltAgentEntries } from './agent-bundles';
import { runDemo, SERVICE_NAME } from './demo';
import { demoUsage, parseDemoOptions } from './demo-options';
import { DemoError, PrerequisiteError } from './errors';
import { scenarioHook } from './scenarios/demo-scenario';
import type { ScenarioRun } from './scenarios/run-scenario';

async function main(): Promise<number> {
  let options: ReturnType<typeof parseDemoOptions>;
  try {
    options = parseDemoOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${demoUsage}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(demoUsage);
    return 0;
  }
  const abort = new AbortController();
  let signals = 0;
  const onSignal = (name: string) => {
    signals++;
    if (signals === 1) {
      process.stdout.write(`\n${name}: tearing down…\n`);
      abort.abort();
    } else {
      process.stdout.write(
        `\n${name} again: still tearing down, please wait (it cleans up what it started)\n`,
      );
    }
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  // --scenario: runs on the box once it is up; its events go into the --json summary.
  let scenario: ScenarioRun | undefined;
  const deps = {
    // One bundle per agent, made once per run (a kubelet started through tsx costs about 3 CPU-s
    // before it runs a line), unless NODEAGENT_DEMO_AGENT_BUNDLES holds them already.
    agentEntries: () => prebuiltAgentEntries() ?? bundledAgentEntries(),
    ...(options.scenario.scenario
      ? { scenario: scenarioHook(options.scenario, SERVICE_NAME, (run) => (scenario = run)) }
      : {}),
  };
  try {
    const result = await runDemo(
      options,
      { write: (text) => process.stdout.write(text), tty: process.stdout.isTTY === true },
      abort.signal,
      deps,
    );
    if (result.notes.length > 0) {
      process.stdout.write(`\nNotes:\n${result.notes.map((n) => `  - ${n}`).join('\n')}\n`);
    }
    if (result.problems.length > 0) {
      process.stdout.write(`\nProblems:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`);
    }
    if (options.json)
      process.stdout.write(`${JSON.stringify(scenario ? { ...result, scenario } : result)}\n`);
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof PrerequisiteError) {
      process.stderr.write(
        [
          'The node in a box needs a real container runtime, and this machine is missing:',
          ...error.missing.map((m) => `  - ${m}`),
          '',
          'As root, `node tools/install-deps.mjs` installs the Debian packages (npm test runs it too).',
          'Run `npm start -- --fake-runtime` for the same show on the fake CRI runtime (no root,',
          'no containerd; no packet test).',
          '',
        ].join('\n'),
      );
      return 2;
    }
    if (error instanceof DemoError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = await main();
