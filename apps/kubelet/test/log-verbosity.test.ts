import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pinoLevel, verbositySetter } from '../src/log-verbosity';

describe('log verbosity (-v and the server’s /debug/flags/v)', () => {
  it('maps klog verbosity onto pino levels: 0-1 info, 2-3 debug, 4 and above trace', () => {
    expect([-1, 0, 1, 2, 3, 4, 10].map(pinoLevel)).toEqual([
      'info',
      'info',
      'info',
      'debug',
      'debug',
      'trace',
      'trace',
    ]);
  });

  it("sets a pino logger's level, and leaves a logger without one alone", () => {
    const logger = pino({ level: 'info', enabled: false });
    verbositySetter(logger)(5);
    expect(logger.level).toBe('trace');
    verbositySetter(logger)(2);
    expect(logger.level).toBe('debug');
    const plain = { info: () => undefined, warn: () => undefined, error: () => undefined };
    verbositySetter(plain)(5);
    expect(plain).not.toHaveProperty('level');
  });
});
