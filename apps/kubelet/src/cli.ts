#!/usr/bin/env node
import { InvalidConfigError } from '@nodeagent/kubelet';
import { klogTextStream } from '@nodeagent/primitives/klog';
import { pino } from 'pino';
import { resolveKubeletOptions } from './kubelet-flags';
import { runKubelet } from './run-kubelet';
import { StartupRefusedError } from './startup-checks';
import { startupWarnings } from './startup-warnings';

/** nodeagent-kubelet: parse flags and config, run until SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let options: Awaited<ReturnType<typeof resolveKubeletOptions>>;
  try {
    options = await resolveKubeletOptions(process.argv.slice(2), { quiet: false });
  } catch (error) {
    if (error instanceof InvalidConfigError) {
      process.stderr.write(`nodeagent-kubelet: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    const commanderError = error as { code?: string; exitCode?: number; message?: string };
    if (commanderError.code?.startsWith('commander.')) {
      if (commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version')
        process.exit(0);
      process.stderr.write(`nodeagent-kubelet: ${commanderError.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // --v (else logging.verbosity) maps onto pino levels: 0-1 info, 2-3 debug, 4+ trace.
  const verbosity = options.flags.v || options.config.logging.verbosity;
  const level = verbosity >= 4 ? 'trace' : verbosity >= 2 ? 'debug' : 'info';
  // logging.format (--logging-format): upstream's klog text lines, or JSON records.
  const logger =
    options.config.logging.format === 'json'
      ? pino({ level, base: { component: 'kubelet' } })
      : pino({ level, base: { component: 'kubelet' } }, klogTextStream());
  for (const warning of startupWarnings(options))
    logger.warn({ field: warning.field, value: warning.value }, warning.message);
  let running: Awaited<ReturnType<typeof runKubelet>>;
  try {
    running = await runKubelet(options, logger);
  } catch (error) {
    if (!(error instanceof StartupRefusedError)) throw error;
    process.stderr.write(`nodeagent-kubelet: failed to run Kubelet: ${error.message}\n`);
    process.exit(1);
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`nodeagent-kubelet: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
