// Stand-in entry for nodeagent-kubelet while apps/kubelet has no daemon entry (src/cli.ts):
// --help and flag/config validation are the real ones from nodeagent-kubelet; anything that
// would start the node loop exits 1 with a message saying this build cannot do that.
import { kubeletCommand, resolveKubeletOptions } from 'nodeagent-kubelet';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(kubeletCommand().helpInformation());
    return;
  }
  try {
    const resolved = await resolveKubeletOptions(argv);
    for (const field of resolved.unknownFields)
      process.stderr.write(`warning: unknown config field ${field}\n`);
    process.stderr.write(
      'error: this nodeagent-kubelet build validates flags and configuration only; ' +
        'the node loop entry (apps/kubelet/src/cli.ts) was not part of the build\n',
    );
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
  }
  process.exitCode = 1;
}

void main();
