import { execFileSync } from 'node:child_process';
import { SeaBuildError } from './sea-build-error.mjs';

/**
 * Runs a build step with its chatter captured (postject warns about unnamed ELF note sections on
 * every run, harmlessly); the output is shown only when the step fails, as a SeaBuildError with
 * `code` (and `hint` when the program itself is missing).
 */
export function runBuildStep(file, args, code = 'STEP_FAILED', hint = '') {
  try {
    execFileSync(file, args, { stdio: 'pipe', encoding: 'utf8' });
  } catch (err) {
    const missing = err.code === 'ENOENT' ? `no "${file}"${hint ? ` (${hint})` : ''}` : '';
    throw new SeaBuildError(
      code,
      [file, ...args].join(' '),
      `${missing}${err.stderr ?? ''}${err.stdout ?? ''}`.trim(),
    );
  }
}
