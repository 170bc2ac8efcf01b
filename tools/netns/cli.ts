// Network namespaces for humans: `tsx --conditions=@nodeagent/source tools/netns/cli.ts <command>`.
//   create [purpose] [--owner <pid>]  make na-<purpose>-<pid>-<random> with lo up, print its name
//   delete <name>...   delete namespaces
//   list               list all namespaces, marking ours whose creator has exited as stale
//   cleanup-stale      delete our namespaces whose creating process has exited
import { cleanupStaleNetns, createNetns, deleteNetns, listNetns } from '@nodeagent/testing';
import { creatorPidOf, isProcessAlive } from '@nodeagent/testing/netns';

export const usage = `usage: netns <command>
  create [purpose] [--owner <pid>]
                     create na-<purpose>-<pid>-<random> with lo up; prints the name;
                     stale once <pid> exits (default 1: kept until deleted)
  delete <name>...   delete the named namespaces
  list               list namespaces ("stale" = ours, creator gone)
  cleanup-stale      delete our namespaces whose creator has exited`;

export class UsageError extends Error {
  readonly code = 'NETNS_CLI_USAGE';
  constructor(readonly argument: string | undefined) {
    super(argument ? `unknown command ${JSON.stringify(argument)}\n${usage}` : usage);
    this.name = 'UsageError';
  }
}

/** Run one CLI command, writing lines through `print`; returns the exit code. */
export async function runCli(
  argv: readonly string[],
  print: (line: string) => void = console.log,
): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'create': {
      // This process exits at once, so its own pid would make the namespace look stale: by
      // default name pid 1 (always alive), so only an explicit delete removes it.
      let ownerPid = 1;
      let purpose = 'manual';
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '--owner') {
          ownerPid = Number(rest[++i]);
          if (!Number.isInteger(ownerPid) || ownerPid <= 0) throw new UsageError(rest[i]);
        } else {
          purpose = rest[i] ?? purpose;
        }
      }
      const netns = await createNetns({ purpose, ownerPid });
      print(netns.name);
      return 0;
    }
    case 'delete':
      if (rest.length === 0) throw new UsageError(undefined);
      for (const name of rest) await deleteNetns(name);
      return 0;
    case 'list':
      for (const name of await listNetns()) {
        const pid = creatorPidOf(name);
        print(pid !== undefined && !isProcessAlive(pid) ? `${name}\tstale` : name);
      }
      return 0;
    case 'cleanup-stale':
      for (const name of await cleanupStaleNetns()) print(`deleted ${name}`);
      return 0;
    default:
      throw new UsageError(command);
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'));
if (invokedDirectly) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error.message);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
