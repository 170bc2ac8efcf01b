import { Command, CommanderError, Option } from 'commander';
import { type CriClient, createCriClient } from '../cri-client';
import { isNotFound } from '../cri-error';
import { DEFAULT_CRI_ENDPOINT } from '../endpoint';
import { enumName } from '../enum-name';
import { ContainerState, PodSandboxState } from '../generated/types';
import { age, humanSize, parseLabels, shortId, splitRepoTag, table, toJson } from './format';

/** Where the CLI writes (tests capture it). */
export interface CliIo {
  /** Writes normal output. */
  stdout(text: string): void;
  /** Writes errors. */
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Milliseconds since the epoch, for "created … ago" columns. */
  now(): number;
}

const defaultIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  now: () => Date.now(),
};

interface GlobalOptions {
  runtimeEndpoint: string;
  timeout: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** What every command shares: the output, the connection it opens, and the exit code it sets. */
interface CliSession {
  readonly io: CliIo;
  /** Connects to the runtime with the global options (the client is closed when the CLI ends). */
  connect(): Promise<CriClient>;
  /** Writes `text` to stdout with a final newline. */
  print(text: string): void;
  exitCode: number;
}

/**
 * The nodeagent-cri command line: `version`, `pods`, `ps`, `images`, `inspect`, `exec`, with
 * crictl's flag names where they exist. Returns the process exit code instead of exiting, so tests
 * can drive it.
 */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  let client: CriClient | undefined;
  const program = new Command('nodeagent-cri');
  const session: CliSession = {
    io,
    exitCode: 0,
    connect: async () => {
      const g = program.opts<GlobalOptions>();
      const seconds = Number(g.timeout);
      client = await createCriClient({
        endpoint: g.runtimeEndpoint,
        timeoutMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000,
      });
      return client;
    },
    print: (text) => io.stdout(text.endsWith('\n') ? text : `${text}\n`),
  };

  program
    .description('Inspect a CRI runtime (containerd, CRI-O) over its unix socket.')
    .addOption(
      new Option(
        '-r, --runtime-endpoint <endpoint>',
        'CRI endpoint (env CONTAINER_RUNTIME_ENDPOINT)',
      ).default(io.env.CONTAINER_RUNTIME_ENDPOINT ?? DEFAULT_CRI_ENDPOINT),
    )
    .option('-t, --timeout <seconds>', 'per-call timeout in seconds', '10')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  addVersionCommand(program, session);
  addPodsCommand(program, session);
  addPsCommand(program, session);
  addImagesCommand(program, session);
  addInspectCommand(program, session);
  addExecCommand(program, session);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return session.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.stderr(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    client?.close();
  }
}

/** `version`: the runtime's name and versions. */
function addVersionCommand(program: Command, session: CliSession): void {
  program
    .command('version')
    .description('runtime name and versions')
    .action(async () => {
      const v = (await session.connect()).runtimeVersion;
      session.print(
        `Version:  ${v?.version}\nRuntimeName:  ${v?.runtimeName}\nRuntimeVersion:  ${v?.runtimeVersion}\nRuntimeApiVersion:  ${v?.runtimeApiVersion}`,
      );
    });
}

/** `pods`: pod sandboxes, as a table, IDs or JSON. */
function addPodsCommand(program: Command, session: CliSession): void {
  program
    .command('pods')
    .description('list pod sandboxes')
    .option('--name <name>', 'only pods whose name contains this')
    .option('--label <key=value>', 'label selector (repeatable)', collect)
    .option('-q, --quiet', 'only IDs')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o: { name?: string; label?: string[]; quiet?: boolean; output: string }) => {
      const cri = await session.connect();
      const { items } = await cri.listPodSandbox({ filter: { labelSelector: parseLabels(o.label) } });
      const pods = items.filter((p) => !o.name || (p.metadata?.name ?? '').includes(o.name));
      if (o.output === 'json') return session.print(toJson({ items: pods }));
      if (o.quiet) return session.print(pods.map((p) => p.id).join('\n'));
      session.print(
        table(
          ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT'],
          pods.map((p) => [
            shortId(p.id),
            age(p.createdAt, session.io.now()),
            enumName(PodSandboxState, p.state).replace('SANDBOX_', ''),
            p.metadata?.name ?? '',
            p.metadata?.namespace ?? '',
            String(p.metadata?.attempt ?? 0),
          ]),
        ),
      );
    });
}

/** `ps`: containers (running ones unless -a), as a table, IDs or JSON. */
function addPsCommand(program: Command, session: CliSession): void {
  program
    .command('ps')
    .description('list containers (running only unless -a)')
    .option('-a, --all', 'include created and exited containers')
    .option('-p, --pod <id>', 'only containers of this pod sandbox')
    .option('--label <key=value>', 'label selector (repeatable)', collect)
    .option('-q, --quiet', 'only IDs')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o: { all?: boolean; pod?: string; label?: string[]; quiet?: boolean; output: string }) => {
      const cri = await session.connect();
      const { containers } = await cri.listContainers({
        filter: {
          podSandboxId: o.pod ?? '',
          labelSelector: parseLabels(o.label),
          state: o.all ? null : { state: ContainerState.CONTAINER_RUNNING },
        },
      });
      if (o.output === 'json') return session.print(toJson({ containers }));
      if (o.quiet) return session.print(containers.map((c) => c.id).join('\n'));
      session.print(
        table(
          ['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID'],
          containers.map((c) => [
            shortId(c.id),
            c.image?.image ?? c.imageRef,
            age(c.createdAt, session.io.now()),
            enumName(ContainerState, c.state).replace('CONTAINER_', ''),
            c.metadata?.name ?? '',
            String(c.metadata?.attempt ?? 0),
            shortId(c.podSandboxId),
          ]),
        ),
      );
    });
}

/** `images`: one row per image tag, as a table, IDs or JSON. */
function addImagesCommand(program: Command, session: CliSession): void {
  program
    .command('images')
    .description('list images')
    .option('-q, --quiet', 'only IDs')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (o: { quiet?: boolean; output: string }) => {
      const { images } = await (await session.connect()).listImages();
      if (o.output === 'json') return session.print(toJson({ images }));
      if (o.quiet) return session.print(images.map((i) => i.id).join('\n'));
      const rows = images.flatMap((i) =>
        (i.repoTags.length > 0 ? i.repoTags : ['<none>']).map((ref) => {
          const [repo, tag] = splitRepoTag(ref);
          return [repo, tag, shortId(i.id), humanSize(i.size)];
        }),
      );
      session.print(table(['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'], rows));
    });
}

/** `inspect`: a container's, else a pod sandbox's, else an image's verbose status. */
function addInspectCommand(program: Command, session: CliSession): void {
  program
    .command('inspect')
    .description('verbose status of a container, pod sandbox or image, as JSON')
    .argument('<id>', 'container ID, pod sandbox ID (or unique prefix), or image reference')
    .action(async (id: string) => {
      const cri = await session.connect();
      const attempts: Array<() => Promise<unknown>> = [
        () => cri.containerStatus({ containerId: id, verbose: true }),
        () => cri.podSandboxStatus({ podSandboxId: id, verbose: true }),
      ];
      for (const attempt of attempts) {
        try {
          return session.print(toJson(await attempt()));
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
      const image = await cri.imageStatus({ image: { image: id }, verbose: true });
      if (image.image) return session.print(toJson(image));
      session.io.stderr(`no container, pod sandbox or image "${id}"\n`);
      session.exitCode = 1;
    });
}

/** `exec`: ExecSync, its output passed through and its exit code the CLI's. */
function addExecCommand(program: Command, session: CliSession): void {
  program
    .command('exec')
    .description('run a command in a container and wait for it (ExecSync)')
    .argument('<container>', 'container ID or unique prefix')
    .argument('<command...>', 'command and arguments')
    .option('--timeout <seconds>', 'command timeout in seconds (0: none)', '0')
    .passThroughOptions()
    .action(async (containerId: string, command: string[], o: { timeout: string }) => {
      const cri = await session.connect();
      const r = await cri.execSync({ containerId, cmd: command, timeout: Number(o.timeout) || 0 });
      session.io.stdout(Buffer.from(r.stdout).toString('utf8'));
      session.io.stderr(Buffer.from(r.stderr).toString('utf8'));
      session.exitCode = r.exitCode;
    });
}
