import { describe, expect, it } from 'vitest';
import { createStepReporter } from '../src/step-reporter';

describe('step reporter', () => {
  it('prints a start and an end line per step off a terminal, with the duration and detail', async () => {
    let out = '';
    let t = 1000;
    const steps = createStepReporter({ write: (s) => (out += s), tty: false, now: () => t });
    const value = await steps.run(
      'start things',
      async () => {
        t += 1500;
        return 42;
      },
      (v) => `value ${v}`,
    );
    expect(value).toBe(42);
    expect(out).toBe('  … start things\n  ✔ start things (1.5s) — value 42\n');
  });

  it('marks a failed step and rethrows its error', async () => {
    let out = '';
    const steps = createStepReporter({ write: (s) => (out += s), tty: false, now: () => 0 });
    await expect(
      steps.run('break', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(out).toContain('  ✘ break (0.0s): boom\n');
  });

  it('on a terminal, rewrites the spinner line with the result', async () => {
    let out = '';
    const steps = createStepReporter({ write: (s) => (out += s), tty: true, now: () => 0 });
    await steps.run('spin', async () => undefined);
    steps.close();
    expect(out.startsWith('  ⠋ spin')).toBe(true);
    expect(out.endsWith('\r\x1b[2K  ✔ spin (0.0s)\n')).toBe(true);
  });
});
