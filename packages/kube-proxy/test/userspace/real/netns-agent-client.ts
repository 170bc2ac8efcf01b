import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@nodeagent/testing';

const AGENT = fileURLToPath(new URL('./netns-agent.ts', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

/** Talks to a netns-agent.ts running inside `netns`. */
export class NetnsAgent {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    let buffer = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const msg = JSON.parse(line) as { id: number; value?: unknown; error?: string };
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.value);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`agent exited ${code}: ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async start(netns: Netns): Promise<NetnsAgent> {
    const child = netns.spawn(process.execPath, ['--conditions=@nodeagent/source', '--import', TSX, AGENT], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const agent = new NetnsAgent(child);
    await agent.waitFor(0, 20_000);
    return agent;
  }

  private waitFor(id: number, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`agent request ${id} timed out: ${this.stderr}`)),
        timeoutMs,
      );
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  call<T>(cmd: Record<string, unknown>, timeoutMs = 15_000): Promise<T> {
    const id = this.nextId++;
    const reply = this.waitFor(id, timeoutMs);
    this.child.stdin!.write(`${JSON.stringify({ id, ...cmd })}\n`);
    return reply as Promise<T>;
  }
}
