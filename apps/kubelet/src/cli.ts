#!/usr/bin/env node
import { InvalidConfigError } from '@nodeagent/kubelet';
import { pino } from 'pino';
import { resolveKubeletOptions } from './kubelet-flags';
import { runKubelet } from './run-kubelet';

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
  // --v maps onto pino levels: 0-1 info, 2-3 debug, 4+ trace.
  const level = options.flags.v >= 4 ? 'trace' : options.flags.v >= 2 ? 'debug' : 'info';
  const logger = pino({ level, base: { component: 'kubelet' } });
  for (const field of options.unknownFields)
    logger.warn({ field }, 'unknown KubeletConfiguration field ignored');
  const running = await runKubelet(options, logger);
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
