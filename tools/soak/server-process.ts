import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The API server process (api-server-process.ts) and its command channel. */
export class ServerProcess {
  private readonly lines: ((line: string) => void)[] = [];
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.lines.shift()?.(line));
  }

  static async start(config: Record<string, unknown>): Promise<ServerProcess> {
    const child = spawn(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [
        '--conditions=@nodeagent/source',
        join(repoRoot, 'tools/soak/api-server-process.ts'),
        JSON.stringify(config),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const server = new ServerProcess(child);
    await server.reply(900_000);
    return server;
  }

  private reply(timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the API server process did not answer')), timeoutMs);
      const exit = (code: number | null) => reject(new Error(`the API server process exited (${code})`));
      this.child.once('exit', exit);
      this.lines.push((line) => {
        clearTimeout(timer);
        this.child.off('exit', exit);
        resolve(JSON.parse(line));
      });
    });
  }

  command(line: 'restart' | 'churn'): Promise<Record<string, unknown>> {
    const answer = this.reply();
    this.child.stdin?.write(`${line}\n`);
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}
