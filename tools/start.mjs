// `npm start`: the node in a box (apps/demo). Runs the demo's TypeScript sources directly with
// tsx and the workspace source condition, so no build is needed; arguments pass through
// (`npm start -- --once`, `npm start -- --fake-runtime`, `npm start -- --help`).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const child = spawn(
  process.execPath,
  ['--conditions=@nodeagent/source', '--import', 'tsx', 'apps/demo/src/main.ts', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
// Ctrl-C reaches the whole foreground process group; a SIGTERM sent to this wrapper alone is
// passed on so the demo still tears down.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
