import { InvalidArgumentError } from './cri-error';

/** One line of a CRI container log file: `<RFC3339Nano> <stdout|stderr> <F|P> <content>`. */
export interface CriLogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** false for a partial line (tag P) that continues in the next entry. */
  full: boolean;
  content: string;
}

/** Parses one line of a CRI container log file (InvalidArgumentError when it is not one). */
export function parseCriLogLine(line: string): CriLogLine {
  const m = /^(\S+) (stdout|stderr) ([FP])(?: (.*))?$/.exec(line);
  if (!m) throw new InvalidArgumentError('line', line, 'not a CRI log line');
  return {
    time: m[1] as string,
    stream: m[2] as 'stdout' | 'stderr',
    full: m[3] === 'F',
    content: m[4] ?? '',
  };
}
