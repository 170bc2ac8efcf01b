import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { parseMountinfo } from '../netns/mountinfo';
import type { CsiVolumeMounter } from './csi-volume-mounter';

const run = promisify(execFile);

/**
 * A private mount namespace the test owns: `unshare --mount --propagation private` holding a
 * sleeping process, commands run in it through nsenter. Mounts made there never reach the host's
 * mount table, and go with the namespace when `stop()` ends its process. Needs root (or
 * CAP_SYS_ADMIN) and util-linux's unshare and nsenter.
 */
export class MountNamespace {
  private constructor(
    private readonly child: ChildProcess,
    readonly pid: number,
  ) {}

  /** A new private mount namespace, held open by a sleeping process until stop(). */
  static async start(): Promise<MountNamespace> {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', 'infinity'], {
      stdio: 'ignore',
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) =>
        reject(
          new Error(`cannot start a mount namespace (unshare from util-linux, run as root): ${e.message}`),
        ),
      );
      child.once('spawn', () => resolve(child.pid as number));
    });
    const ns = new MountNamespace(child, pid);
    // unshare execs sleep once the namespace exists: wait until the process is in a namespace of its own.
    for (let i = 0; i < 100; i++) {
      const [self, its] = await Promise.all([
        run('readlink', ['/proc/self/ns/mnt']).then((r) => r.stdout.trim()),
        run('readlink', [`/proc/${pid}/ns/mnt`])
          .then((r) => r.stdout.trim())
          .catch(() => ''),
      ]);
      if (its && its !== self && (await run('cat', [`/proc/${pid}/comm`])).stdout.trim() === 'sleep')
        return ns;
      await new Promise((r) => setTimeout(r, 20));
    }
    await ns.stop();
    throw new Error('the mount namespace did not come up');
  }

  /** Run a command inside the namespace; its stdout. */
  async exec(command: string, args: string[]): Promise<string> {
    return (await run('nsenter', ['-t', String(this.pid), '-m', '--', command, ...args])).stdout;
  }

  /** The namespace's mount points (from its mountinfo). */
  async mountPoints(): Promise<string[]> {
    return parseMountinfo(await this.exec('cat', ['/proc/self/mountinfo'])).map((mount) => mount.point);
  }

  /** A {@link CsiVolumeMounter} making real bind mounts in this namespace. */
  mounter(): CsiVolumeMounter {
    return {
      bind: async (source, target) => {
        await mkdir(target, { recursive: true });
        await this.exec('mount', ['--bind', source, target]);
      },
      unbind: async (target) => {
        await this.exec('umount', [target]);
        await rm(target, { recursive: true, force: true });
      },
    };
  }

  /** End the namespace's process: its mounts go with it. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}
