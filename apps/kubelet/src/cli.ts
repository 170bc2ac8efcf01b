#!/usr/bin/env node
import { klogTextStream } from '@nodeagent/primitives/klog';
import { pino } from 'pino';
import { reportStartError } from './command-line-report';
import { kubeletHelpText, parseKubeletCommandLine, resolveKubeletOptions } from './kubelet-flags';
import { runKubelet } from './run-kubelet';
import { startupWarnings } from './startup-warnings';
import { rawVersionText, versionText } from './version';

/** -v as typed (for how much an error report shows), 0 when absent or unparsable. */
function verbosityOf(argv: readonly string[]): number {
  for (let i = argv.length - 1; i >= 0; i--) {
    const match = /^(?:--v|-v)(?:=?(\d+))?$/.exec(argv[i]!);
    if (match) return Number(match[1] ?? argv[i + 1] ?? 0) || 0;
  }
  return 0;
}

/** nodeagent-kubelet: parse flags and config, run until SIGTERM/SIGINT. */
async function main(argv: string[]): Promise<void> {
  // As upstream: the whole command line parses first; then --help, then --version.
  const { values } = parseKubeletCommandLine(argv);
  if (values.get('help') === true) {
    process.stdout.write(kubeletHelpText());
    process.exit(0);
  }
  const version = values.get('version');
  if (version === 'raw' || version === true) {
    process.stdout.write(`${version === 'raw' ? rawVersionText('nodeagent-kubelet') : versionText()}\n`);
    process.exit(0);
  }
  const options = await resolveKubeletOptions(argv);
  // pflag prints these on stderr while it parses, before any log line.
  for (const line of options.deprecations) process.stderr.write(`${line}\n`);
  // -v (else logging.verbosity) maps onto pino levels: 0-1 info, 2-3 debug, 4+ trace.
  const verbosity = options.flags.v || options.config.logging.verbosity;
  const level = verbosity >= 4 ? 'trace' : verbosity >= 2 ? 'debug' : 'info';
  // logging.format (--logging-format): upstream's klog text lines, or JSON records.
  const logger =
    options.config.logging.format === 'json'
      ? pino({ level, base: { component: 'kubelet' } })
      : pino({ level, base: { component: 'kubelet' } }, klogTextStream());
  for (const warning of startupWarnings(options))
    logger.warn({ field: warning.field, value: warning.value }, warning.message);
  const running = await runKubelet(options, logger);
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

const argv = process.argv.slice(2);
main(argv).catch((error: unknown) => {
  process.exit(reportStartError(error, verbosityOf(argv), (line) => process.stderr.write(line)));
});
