import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/**
 * A loopback port whose connects hang, as a dropped SYN leaves them: a child process listens with
 * a backlog of 1 and never accepts (its event loop blocks as soon as it has said its port), and two
 * connections fill its accept queue, so the kernel drops every later SYN. What a probe meets when a pod's address
 * answers nothing; `close` kills the child and the two fillers.
 */
export async function unansweredPort(): Promise<{ port: number; close: () => void }> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         console.log(s.address().port);
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
    child.once('exit', (code) => reject(new Error(`the listening child exited (${code})`)));
  });
  const fillers: Socket[] = [];
  // Linux queues backlog + 1 completed connections, then drops SYNs.
  for (let i = 0; i < 2; i++) {
    const socket = connect({ port, host: '127.0.0.1' });
    fillers.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
  }
  return {
    port,
    close: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}
