/**
 * Progress as a step list. On a terminal the running step has a spinner that turns into ✔ or ✘;
 * otherwise (pipes, CI, the e2e test) each step prints a start line and an end line.
 */
export interface StepReporter {
  run<T>(title: string, work: () => Promise<T>, detail?: (result: T) => string): Promise<T>;
  note(line: string): void;
  /** Stops the spinner timer (idempotent). */
  close(): void;
}

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface StepReporterOptions {
  write: (text: string) => void;
  tty: boolean;
  now?: () => number;
}

export function createStepReporter({ write, tty, now = Date.now }: StepReporterOptions): StepReporter {
  let timer: NodeJS.Timeout | undefined;
  const seconds = (start: number) => `${((now() - start) / 1000).toFixed(1)}s`;
  return {
    async run(title, work, detail) {
      const start = now();
      let frame = 0;
      if (tty) {
        write(`  ${frames[0]} ${title}`);
        timer = setInterval(() => {
          frame = (frame + 1) % frames.length;
          write(`\r  ${frames[frame]} ${title} ${seconds(start)}`);
        }, 100);
      } else {
        write(`  … ${title}\n`);
      }
      try {
        const result = await work();
        if (timer) clearInterval(timer);
        const extra = detail ? ` — ${detail(result)}` : '';
        write(`${tty ? '\r\x1b[2K' : ''}  ✔ ${title} (${seconds(start)})${extra}\n`);
        return result;
      } catch (error) {
        if (timer) clearInterval(timer);
        write(`${tty ? '\r\x1b[2K' : ''}  ✘ ${title} (${seconds(start)}): ${(error as Error).message}\n`);
        throw error;
      } finally {
        timer = undefined;
      }
    },
    note(line) {
      write(`    ${line}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
