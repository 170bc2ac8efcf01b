#!/usr/bin/env node
import {
  glibcTrimFreeHeap,
  keepV8MemoryReducerAlive,
  releaseFreeHeapPeriodically,
} from '@nodeagent/primitives/free-heap-release';
import { klogTextStream } from '@nodeagent/primitives/klog';
import { pino } from 'pino';
import { reportStartError } from './command-line-report';
import { type CommandOutput, prepareKubelet, verbosityOf } from './kubelet-command';
import { pinoLevel } from './log-verbosity';
import { nameTheSetting } from './start-up-errors';
import { startupWarnings } from './startup-warnings';

const out: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** nodeagent-kubelet: parse flags and config, run until SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  const command = await prepareKubelet(argv, out);
  if ('exitCode' in command) process.exit(command.exitCode);
  const { options } = command;
  // -v (else logging.verbosity) maps onto pino levels: 0-1 info, 2-3 debug, 4+ trace.
  const verbosity = options.flags.v || options.config.logging.verbosity;
  const level = pinoLevel(verbosity);
  // logging.format (--logging-format): upstream's klog text lines, or JSON records.
  const logger =
    options.config.logging.format === 'json'
      ? pino({ level, base: { component: 'kubelet' } })
      : pino({ level, base: { component: 'kubelet' } }, klogTextStream());
  for (const warning of startupWarnings(options))
    logger.warn({ field: warning.field, value: warning.value }, warning.message);
  // Loaded only now: the kubelet's whole engine (CRI, HTTP/2, TLS, the API client) is not needed
  // to parse the command line and say what is wrong with it or print its warnings, so the first
  // log line does not wait for it (issue #51).
  const { runKubelet } = await import('./run-kubelet');
  // A directory of a setting that cannot be written is said as that setting's problem.
  const running = await runKubelet(options, logger).catch((error: unknown) => {
    throw nameTheSetting(error, options);
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  const trim = await glibcTrimFreeHeap(() => import('koffi'));
  if (trim) releaseFreeHeapPeriodically(trim);
  // V8's page pool: without this, Node 24's V8 keeps the highest heap the kubelet ever had
  // (docs/performance/kubelet.md, "V8's page pool").
  keepV8MemoryReducerAlive();
}

const argv = process.argv.slice(2);
main(argv).catch((error: unknown) => {
  process.exit(reportStartError(error, verbosityOf(argv), out.stderr));
});
