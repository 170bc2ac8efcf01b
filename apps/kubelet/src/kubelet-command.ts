import { reportStartError } from './command-line-report';
import {
  kubeletHelpText,
  parseKubeletCommandLine,
  type ResolvedKubeletOptions,
  resolveKubeletOptions,
} from './kubelet-flags';
import { rawVersionText, versionText } from './version';

export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What the command line asks for: an exit now (help, version, an error), or a kubelet to run. */
export type KubeletCommand = { exitCode: number } | { options: ResolvedKubeletOptions };

/** -v as typed (for how much an error report shows), 0 when absent or unparsable. */
export function verbosityOf(argv: readonly string[]): number {
  for (let i = argv.length - 1; i >= 0; i--) {
    const match = /^(?:--v|-v)(?:=?(\d+))?$/.exec(argv[i]!);
    if (match) return Number(match[1] ?? argv[i + 1] ?? 0) || 0;
  }
  return 0;
}

/**
 * The kubelet's start up to the point it runs: as upstream, the whole command line parses
 * first, then --help, then --version, then the configuration (file, drop-ins, flags) is
 * loaded and validated. pflag's deprecation lines go to stderr as it prints them.
 */
export async function prepareKubelet(argv: readonly string[], out: CommandOutput): Promise<KubeletCommand> {
  try {
    const { values } = parseKubeletCommandLine(argv);
    if (values.get('help') === true) {
      out.stdout(kubeletHelpText());
      return { exitCode: 0 };
    }
    const version = values.get('version');
    if (version === 'raw' || version === true) {
      out.stdout(`${version === 'raw' ? rawVersionText('nodeagent-kubelet') : versionText()}\n`);
      return { exitCode: 0 };
    }
    const options = await resolveKubeletOptions([...argv]);
    for (const line of options.deprecations) out.stderr(`${line}\n`);
    return { options };
  } catch (error) {
    return { exitCode: reportStartError(error, verbosityOf(argv), out.stderr) };
  }
}
