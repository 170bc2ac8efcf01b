import { execFile } from 'node:child_process';

/** A driver's capabilities as its `init` reports them; upstream's defaults for any it leaves out. */
export interface FlexCapabilities {
  attach: boolean;
  selinuxRelabel: boolean;
  supportsMetrics: boolean;
  fsGroup: boolean;
  requiresFSResize: boolean;
}

/** What a driver answers on stdout (upstream DriverStatus). */
export interface FlexDriverStatus {
  status: string;
  message?: string;
  capabilities: FlexCapabilities;
}

/** Runs a driver executable with its arguments; resolves its exit code and combined output. */
export type FlexRunner = (
  executable: string,
  args: readonly string[],
) => Promise<{ code: number; output: string }>;

/** The host's exec of the driver, stdout and stderr together as upstream's CombinedOutput. */
export const execFlexRunner: FlexRunner = (executable, args) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      executable,
      [...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
      },
    );
    child.stdin?.end();
  });

/** Upstream's StatusNotSupported: the driver does not implement the call (its error text is exactly this). */
export const statusNotSupported = 'Not supported';

/** A driver call that failed: its message is upstream's error text. */
export class FlexDriverError extends Error {
  readonly code = 'FlexDriverError';
  /** The driver answered `Not supported` (upstream isCmdNotSupportedErr). */
  get notSupported(): boolean {
    return this.message === statusNotSupported;
  }
}

const defaultCapabilities: FlexCapabilities = {
  attach: true,
  selinuxRelabel: true,
  supportsMetrics: false,
  fsGroup: true,
  requiresFSResize: true,
};

/**
 * Upstream handleCmdResponse: the output must be JSON with `status` Success; `Not supported` and
 * any other status are errors in upstream's words. Capabilities the driver leaves out keep their
 * defaults.
 */
export function parseDriverOutput(command: string, output: string): FlexDriverStatus {
  let parsed: { status?: unknown; message?: unknown; capabilities?: Partial<FlexCapabilities> };
  try {
    parsed = JSON.parse(output) as typeof parsed;
  } catch (error) {
    throw new FlexDriverError(
      `failed to unmarshal output for command: ${command}, output: ${JSON.stringify(output)}, error: ${(error as Error).message}`,
    );
  }
  const status = typeof parsed.status === 'string' ? parsed.status : '';
  if (status === statusNotSupported) throw new FlexDriverError(statusNotSupported);
  const message = typeof parsed.message === 'string' ? parsed.message : '';
  if (status !== 'Success')
    throw new FlexDriverError(`${command} command failed, status: ${status}, reason: ${message}`);
  return {
    status,
    ...(message ? { message } : {}),
    capabilities: { ...defaultCapabilities, ...(parsed.capabilities ?? {}) },
  };
}

/**
 * Upstream DriverCall.Run: `<executable> <command> <args...>`. A non-zero exit is judged by its
 * output (a driver that exits non-zero with Success in its output is a driver bug: the exit
 * error is returned).
 */
export async function callFlexDriver(
  runner: FlexRunner,
  executable: string,
  command: string,
  args: readonly string[] = [],
): Promise<FlexDriverStatus> {
  const { code, output } = await runner(executable, [command, ...args]);
  if (code === 0) return parseDriverOutput(command, output);
  parseDriverOutput(command, output);
  throw new FlexDriverError(`exit status ${code}`);
}
