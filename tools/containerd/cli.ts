// Usage:
//   tsx tools/containerd/cli.ts start [--no-images]   prints the instance JSON; containerd keeps running
//   tsx tools/containerd/cli.ts stop <baseDir>        tears that instance down
//   tsx tools/containerd/cli.ts sweep                 tears down instances whose owning process died
import { readInstanceInfo, startContainerd, stopContainerdInstance, sweepStaleInstances } from './containerd';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'start') {
    const c = await startContainerd({ images: !rest.includes('--no-images'), detached: true });
    const { stop: _stop, ...info } = c;
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return 0;
  }
  if (command === 'stop' && rest[0]) {
    await stopContainerdInstance(await readInstanceInfo(rest[0]));
    return 0;
  }
  if (command === 'sweep') {
    for (const netns of await sweepStaleInstances()) process.stdout.write(`stopped ${netns}\n`);
    return 0;
  }
  process.stderr.write('usage: cli.ts start [--no-images] | stop <baseDir> | sweep\n');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
