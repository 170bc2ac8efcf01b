import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ContainerState } from '@nodeagent/cri-client/types';
import { FakeClock } from '@nodeagent/primitives';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KubeletLogger } from '../src/kubelet-logger';
import { ContainerLogManager, type LogRotationRuntime } from '../src/logs/container-log-manager';
import { activeLookMs, minLookMs, nextLookDelay } from '../src/logs/log-growth-watch';
import { LogRotationConfigError, logRotatePolicy } from '../src/logs/log-rotate-policy';
import {
  allContainerLogs,
  compareRotatedLogs,
  rotatedLogName,
  rotationTimestamp,
} from '../src/logs/rotated-log-files';

/** CRI as containerd answers log rotation: ReopenContainerLog creates a fresh, empty log file. */
class RotationRuntime implements LogRotationRuntime {
  readonly containers = new Map<string, { state: ContainerState; logPath: string }>();
  readonly reopened: string[] = [];
  /** The log directory's files as each reopen began (the rename done, the runtime not yet told). */
  readonly filesAtReopen: string[][] = [];
  failReopen = false;
  /** Answer the reopen without creating the file (a runtime that writes no logs, like the fake CRI). */
  reopenWritesNoFile = false;
  reopenDelayMs = 0;
  inFlight = 0;
  maxInFlight = 0;

  async listContainers() {
    return { containers: [...this.containers].map(([id, c]) => ({ id, state: c.state })) };
  }

  /** A slow ContainerStatus round trip: moves this clock on as it answers. */
  statusTakes: { clock: FakeClock; ms: number } | undefined;

  /** Holds the next ContainerStatus until this resolves (one call; `statusHeld` says it came). */
  holdNextStatus: Promise<void> | undefined;
  statusHeld = false;

  /** ContainerStatus calls answered so far. */
  statusCalls = 0;

  async containerStatus(request: { containerId: string }) {
    this.statusCalls++;
    if (this.statusTakes) this.statusTakes.clock.advance(this.statusTakes.ms);
    const hold = this.holdNextStatus;
    if (hold) {
      this.holdNextStatus = undefined;
      this.statusHeld = true;
      await hold;
    }
    const c = this.containers.get(request.containerId);
    if (!c) throw new Error(`container "${request.containerId}" not found`);
    return { status: { logPath: c.logPath, state: c.state } };
  }

  async reopenContainerLog(request: { containerId: string }) {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const logPath = this.containers.get(request.containerId)?.logPath;
      if (logPath) this.filesAtReopen.push((await readdir(dirname(logPath))).sort());
      if (this.reopenDelayMs) await new Promise((resolve) => setTimeout(resolve, this.reopenDelayMs));
      if (this.failReopen) throw new Error('container is not running');
      if (this.containers.get(request.containerId)?.state !== ContainerState.CONTAINER_RUNNING)
        throw new Error('container is not running');
      this.reopened.push(request.containerId);
      if (!this.reopenWritesNoFile)
        await writeFile(this.containers.get(request.containerId)!.logPath, '', { flag: 'a' });
      return {};
    } finally {
      this.inFlight--;
    }
  }
}

class RecordingLogger implements KubeletLogger {
  readonly lines: { level: string; msg?: string; obj: object }[] = [];
  info(obj: object, msg?: string) {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg?: string) {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg?: string) {
    this.lines.push({ level: 'error', obj, msg });
  }
}

const line = (n: number) => `2025-01-01T00:00:00.000000000Z stdout F line ${n}\n`;
const KiB = 1024;

describe('ContainerLogManager (upstream container log rotation)', () => {
  let dir: string;
  let runtime: RotationRuntime;
  let logger: RecordingLogger;
  let clock: FakeClock;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), `na-log-rotation-${process.pid}-`));
    runtime = new RotationRuntime();
    logger = new RecordingLogger();
    clock = new FakeClock(Date.UTC(2025, 0, 1, 12, 0, 0));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function addContainer(
    id: string,
    state: ContainerState = ContainerState.CONTAINER_RUNNING,
  ): Promise<string> {
    const logPath = join(dir, id, '0.log');
    await mkdir(join(dir, id), { recursive: true });
    await writeFile(logPath, '');
    runtime.containers.set(id, { state, logPath });
    return logPath;
  }

  const manager = (maxSize = '1Ki', maxFiles = 5, maxWorkers = 1) =>
    new ContainerLogManager({
      runtime,
      policy: logRotatePolicy(maxSize, maxFiles),
      maxWorkers,
      monitorIntervalMs: 10_000,
      logger,
      clock,
    });

  it('keeps at most containerLogMaxFiles files: the current, one rotated, the older ones gzipped', async () => {
    const log = await addContainer('c1');
    const logs = manager('1Ki', 4);
    const written: string[] = [];
    for (let pass = 0; pass < 6; pass++) {
      let text = '';
      for (let n = 0; Buffer.byteLength(text) < 2 * KiB; n++) text += line(pass * 1000 + n);
      written.push(text);
      await writeFile(log, text, { flag: 'a' });
      await logs.rotateLogs();
      clock.advance(10_000);
    }
    const files = (await readdir(join(dir, 'c1'))).sort();
    expect(files).toHaveLength(4);
    expect(files[0]).toBe('0.log');
    const stamp = (pass: number) => rotationTimestamp(Date.UTC(2025, 0, 1, 12, 0, 0) + pass * 10_000);
    // maxFiles-2 = 2 compressed, then the newest rotated one uncompressed.
    expect(files.slice(1)).toEqual([`0.log.${stamp(3)}.gz`, `0.log.${stamp(4)}.gz`, `0.log.${stamp(5)}`]);
    expect(await readFile(log, 'utf8')).toBe('');
    expect(await readFile(join(dir, 'c1', `0.log.${stamp(5)}`), 'utf8')).toBe(written[5]);
    expect(gunzipSync(await readFile(join(dir, 'c1', `0.log.${stamp(3)}.gz`))).toString()).toBe(written[3]);
    expect(runtime.reopened).toEqual(Array.from({ length: 6 }, () => 'c1'));
    // Oldest first, the current file last (what a reader of every file walks).
    expect(await allContainerLogs(log)).toEqual([...files.slice(1).map((f) => join(dir, 'c1', f)), log]);
  });

  it("keeps a fast writer's oversized rotated files within maxSize × (maxFiles − 1) bytes", async () => {
    const log = await addContainer('c1');
    const logs = manager('1Ki', 4);
    // Rotated late (the writer outran the looks): 3 KiB files for a 1 KiB limit.
    await writeFile(log, 'c'.repeat(3072));
    await logs.rotateLogs();
    const first = `0.log.${rotationTimestamp(clock.now())}`;
    // A second rotation a second later, within the monitor interval: a fast writer.
    clock.advance(1000);
    await writeFile(log, 'd'.repeat(3072));
    await logs.rotateLogs();
    const second = `0.log.${rotationTimestamp(clock.now())}`;
    // By count (maxFiles − 2 older ones) the first would stay; 3 + 3 KiB exceed the 4 KiB
    // limit of the directory, so it goes, uncompressed — before the rename: the directory never
    // holds both.
    expect((await readdir(join(dir, 'c1'))).sort()).toEqual(['0.log', second]);
    expect(runtime.filesAtReopen.at(-1)).toEqual([second]);
    expect(first).not.toBe(second);
    expect(await readFile(join(dir, 'c1', second), 'utf8')).toBe('d'.repeat(3072));
  });

  it("keeps all of a fast writer's files of about maxSize, as by count", async () => {
    const log = await addContainer('c1');
    const logs = manager('1Ki', 4);
    // Rotated a little past maxSize (the bytes written during the reopen), once a second.
    for (let rotation = 0; rotation < 4; rotation++) {
      await writeFile(log, 'e'.repeat(1100));
      await logs.rotateLogs();
      clock.advance(1000);
    }
    const files = await readdir(join(dir, 'c1'));
    // The current file, the newest rotated and maxFiles − 2 older ones (3.2 KiB of rotated files,
    // within the 3 × 1 KiB share of the limit and its 10% slack).
    expect(files).toHaveLength(4);
    expect(files.filter((f) => f.endsWith('.gz'))).toEqual([]);
  });

  it('names rotated files with the Go layout 20060102-150405', () => {
    expect(rotationTimestamp(new Date(2025, 2, 4, 5, 6, 7).getTime())).toBe('20250304-050607');
  });

  it('leaves a log under containerLogMaxSize and containers that are not running alone', async () => {
    const small = await addContainer('small');
    await writeFile(small, 'x'.repeat(1023));
    const exited = await addContainer('exited', ContainerState.CONTAINER_EXITED);
    await writeFile(exited, 'x'.repeat(4096));
    await manager('1Ki').rotateLogs();
    expect(runtime.reopened).toEqual([]);
    expect(await readdir(join(dir, 'small'))).toEqual(['0.log']);
    expect(await readdir(join(dir, 'exited'))).toEqual(['0.log']);
    // Exactly maxSize is due, as upstream (size < maxSize is left alone).
    await writeFile(small, 'x', { flag: 'a' });
    await manager('1Ki').rotateLogs();
    expect(runtime.reopened).toEqual(['small']);
  });

  it('renames the log back when ReopenContainerLog fails, and rotates it on a later pass', async () => {
    const log = await addContainer('c1');
    await writeFile(log, 'x'.repeat(2048));
    runtime.failReopen = true;
    await manager().rotateLogs();
    expect(await readdir(join(dir, 'c1'))).toEqual(['0.log']);
    expect(await readFile(log, 'utf8')).toBe('x'.repeat(2048));
    const failure = logger.lines.find((l) => l.msg === 'Failed to rotate log for container');
    expect(failure?.level).toBe('error');
    expect(failure?.obj).toMatchObject({ containerID: 'c1', path: log, currentSize: 2048, maxSize: 1024 });
    expect(String((failure?.obj as { err?: string } | undefined)?.err)).toContain(
      'failed to reopen container log "c1"',
    );
    runtime.failReopen = false;
    await manager().rotateLogs();
    expect((await readdir(join(dir, 'c1'))).sort()).toEqual([
      '0.log',
      `0.log.${rotationTimestamp(clock.now())}`,
    ]);
  });

  it('asks the runtime to reopen a missing log, and removes leftovers of an interrupted rotation', async () => {
    const log = await addContainer('c1');
    await rm(log);
    await manager().rotateLogs();
    expect(runtime.reopened).toEqual(['c1']);
    expect(await readFile(log, 'utf8')).toBe('');
    // A compression that stopped after writing .gz (and a .tmp) before removing the original.
    await writeFile(`${log}.20240101-000000`, 'old');
    await writeFile(`${log}.20240101-000000.gz`, 'gz');
    await writeFile(`${log}.20240101-000010.tmp`, 'tmp');
    await writeFile(log, 'x'.repeat(2048));
    await manager().rotateLogs();
    expect((await readdir(join(dir, 'c1'))).sort()).toEqual([
      '0.log',
      '0.log.20240101-000000.gz',
      `0.log.${rotationTimestamp(clock.now())}`,
    ]);
  });

  it('rotates at most containerLogMaxWorkers containers at a time', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) await writeFile(await addContainer(id), 'x'.repeat(2048));
    runtime.reopenDelayMs = 20;
    await manager('1Ki', 5, 2).rotateLogs();
    expect(runtime.reopened.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(runtime.maxInFlight).toBe(2);
    runtime.maxInFlight = 0;
    for (const id of ['a', 'b', 'c']) await writeFile(runtime.containers.get(id)!.logPath, 'x'.repeat(2048));
    clock.advance(10_000);
    await manager('1Ki', 5, 1).rotateLogs();
    expect(runtime.maxInFlight).toBe(1);
  });

  it('runs a pass, then waits containerLogMonitorInterval through the injected sleep, until stopped', async () => {
    const log = await addContainer('c1');
    const sleeps: { ms: number; resolve: () => void }[] = [];
    const logs = new ContainerLogManager({
      runtime,
      policy: logRotatePolicy('1Ki', 5),
      maxWorkers: 1,
      monitorIntervalMs: 10_000,
      discoveryIntervalMs: 60_000,
      logger,
      clock,
      sleep: (ms) => new Promise<void>((resolve) => sleeps.push({ ms, resolve })),
    });
    const waitFor = async (check: () => boolean) => {
      for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(check()).toBe(true);
    };
    await writeFile(log, 'x'.repeat(2048));
    logs.start();
    await waitFor(() => sleeps.length === 1);
    expect(sleeps[0]?.ms).toBe(10_000);
    expect(runtime.reopened).toEqual(['c1']);
    expect(logger.lines[0]).toMatchObject({
      msg: 'Initializing container log rotate workers',
      obj: { workers: 1, monitorPeriod: '10s' },
    });
    // Nothing happens until the interval has passed.
    await writeFile(log, 'x'.repeat(2048));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(runtime.reopened).toEqual(['c1']);
    clock.advance(10_000);
    sleeps[0]?.resolve();
    // The pass hands rotations to the workers and goes back to sleep: the second sleep may begin
    // before the worker's reopen is recorded, so wait for both.
    await waitFor(() => sleeps.length === 2 && runtime.reopened.length === 2);
    expect(runtime.reopened).toEqual(['c1', 'c1']);
    await logs.stop();
    expect(sleeps).toHaveLength(2);
  });

  it('asks ContainerStatus at a pass only about the running containers it does not watch yet', async () => {
    for (const id of ['a', 'b', 'c']) await addContainer(id);
    const sleeps: (() => void)[] = [];
    const logs = new ContainerLogManager({
      runtime,
      policy: logRotatePolicy('1Ki', 5),
      maxWorkers: 1,
      monitorIntervalMs: 10_000,
      logger,
      clock,
      sleep: () => new Promise<void>((resolve) => sleeps.push(resolve)),
    });
    logs.start();
    // A pass stats real files: on a busy machine it may take seconds, never wrongly count.
    const passDone = (n: number) => vi.waitFor(() => expect(sleeps).toHaveLength(n), { timeout: 30_000 });
    await passDone(1);
    expect(runtime.statusCalls).toBe(3);
    await addContainer('d');
    for (let pass = 2; pass <= 4; pass++) {
      clock.advance(10_000);
      sleeps[pass - 2]?.();
      await passDone(pass);
    }
    // Three more full passes over four running containers: one call, for the new one.
    expect(runtime.statusCalls).toBe(4);
    await logs.stop();
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('refuses containerLogMaxFiles below 2 and an unparsable containerLogMaxSize; a negative size disables rotation', async () => {
    expect(() => logRotatePolicy('10Mi', 1)).toThrow(LogRotationConfigError);
    expect(() => logRotatePolicy('10Mi', 1)).toThrow('invalid MaxFiles 1, must be > 1');
    try {
      logRotatePolicy('ten megs', 5);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'LOG_ROTATION_CONFIG',
        field: 'containerLogMaxSize',
        value: 'ten megs',
      });
      expect((error as Error).message).toContain('failed to parse container log max size "ten megs"');
    }
    expect(logRotatePolicy('10Mi', 5)).toEqual({ maxSize: 10 * 1024 * 1024, maxFiles: 5 });
    const log = await addContainer('c1');
    await writeFile(log, 'x'.repeat(4096));
    const disabled = manager('-1', 5);
    disabled.start();
    await disabled.stop();
    expect(runtime.reopened).toEqual([]);
    expect(logger.lines).toEqual([]);
  });

  it('removes every file of a container log on clean', async () => {
    const log = await addContainer('c1');
    await writeFile(`${log}.20240101-000000.gz`, 'gz');
    await writeFile(`${log}.20240101-000010`, 'x');
    await writeFile(join(dir, 'c1', '1.log'), 'next instance');
    await manager().clean('c1');
    expect(await readdir(join(dir, 'c1'))).toEqual(['1.log']);
  });

  describe('size-triggered rotation between monitor passes', () => {
    /** A started manager whose monitor loop never comes round again: only the log watches act. */
    const started = (maxFiles = 3) => {
      const logs = new ContainerLogManager({
        runtime,
        policy: logRotatePolicy('1Ki', maxFiles),
        maxWorkers: 1,
        monitorIntervalMs: 10_000,
        logger,
        clock,
        sleep: () => new Promise<void>(() => undefined),
      });
      logs.start();
      return logs;
    };
    /** Lets the parked watch look once (its timer is due within activeLookMs) and park again. */
    const look = async () => {
      await clock.whenPending(1);
      await clock.advanceAsync(activeLookMs, () => clock.whenPending(1).catch(() => undefined));
      await clock.whenPending(1);
    };

    it('rotates as soon as a growing log reaches maxSize, several times a second, each file kept under its own name', async () => {
      const log = await addContainer('c1');
      const logs = started(3);
      const start = clock.now();
      let n = 0;
      const written: string[] = [];
      for (let rotation = 0; rotation < 5; rotation++) {
        let text = '';
        while (Buffer.byteLength(text) < 1100) text += line(n++);
        written.push(text);
        // Two writes, looked at in between: the watch measures the growth, then sees maxSize reached.
        const half = text.length / 2;
        await writeFile(log, text.slice(0, half), { flag: 'a' });
        await look();
        await writeFile(log, text.slice(half), { flag: 'a' });
        await look();
        expect(runtime.reopened).toHaveLength(rotation + 1);
      }
      // All within a few looks, far inside one 10 s monitor interval.
      expect(clock.now() - start).toBeLessThan(10_000);
      await logs.stop();
      const rotated = (await readdir(join(dir, 'c1'))).filter((f) => f !== '0.log').sort(compareRotatedLogs);
      // maxFiles 3: the current file and the two newest rotated ones, uncompressed (rotating much
      // faster than the monitor interval, they are turned over before gzip would pay off), each
      // under its own name although several rotations fell within one second.
      expect(rotated).toHaveLength(2);
      for (const name of rotated) expect(name).toMatch(/^0\.log\.\d{8}-\d{6}(-\d+)?$/);
      expect(rotated.some((name) => /-\d+$/.test(name))).toBe(true);
      expect(await readFile(join(dir, 'c1', rotated[0]!), 'utf8')).toBe(written[3]);
      expect(await readFile(join(dir, 'c1', rotated[1]!), 'utf8')).toBe(written[4]);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    });

    it('does not ask a container that has exited to reopen its log, and logs no error for it', async () => {
      const log = await addContainer('c1');
      const logs = started();
      await look();
      runtime.containers.get('c1')!.state = ContainerState.CONTAINER_EXITED;
      // Last seen running (by the pass) more than a second ago: the rotation asks the runtime first.
      await clock.advanceAsync(2000);
      await writeFile(log, 'x'.repeat(4096), { flag: 'a' });
      await clock.advanceAsync(10_000);
      await logs.stop();
      expect(runtime.reopened).toEqual([]);
      expect(await readdir(join(dir, 'c1'))).toEqual(['0.log']);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    });

    it('logs no error when a container exits just as its log is rotated (the runtime refuses the reopen)', async () => {
      const log = await addContainer('c1');
      const logs = started();
      await look();
      runtime.containers.get('c1')!.state = ContainerState.CONTAINER_EXITED;
      await writeFile(log, 'x'.repeat(4096), { flag: 'a' });
      await clock.advanceAsync(10_000);
      await logs.stop();
      // Renamed back, as after any refused reopen; the container is not looked at again.
      expect(await readdir(join(dir, 'c1'))).toEqual(['0.log']);
      expect(await readFile(log, 'utf8')).toBe('x'.repeat(4096));
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    });

    it('asks a runtime whose reopen creates no log file again only after a monitor interval', async () => {
      const log = await addContainer('c1');
      await rm(log);
      runtime.reopenWritesNoFile = true;
      const logs = started();
      await look();
      // Watched with the log missing: one reopen by the pass, one by the watch, then the watch
      // waits the 10 s monitor interval (before, it asked again every 5 ms).
      for (let i = 0; i < 8; i++) await clock.advanceAsync(1000);
      expect(runtime.reopened.length).toBeLessThanOrEqual(2);
      await clock.advanceAsync(3000);
      await logs.stop();
      expect(runtime.reopened.length).toBeGreaterThanOrEqual(2);
      expect(runtime.reopened.length).toBeLessThanOrEqual(3);
      expect(logger.lines.some((l) => l.msg === 'Failed to stat container log after reopen')).toBe(true);
    });

    it('watches a container the runtime reports started at once, not at the next discovery', async () => {
      const logs = started();
      // The first pass found no container; the loop now waits for a discovery that never comes.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const log = await addContainer('c1');
      await writeFile(log, 'x'.repeat(4096));
      await clock.advanceAsync(5000);
      expect(runtime.reopened).toEqual([]);
      const before = runtime.statusCalls;
      await logs.containerStarted('c1');
      // One ContainerStatus says both that it runs and where its log is.
      expect(runtime.statusCalls - before).toBe(1);
      await look();
      await logs.stop();
      expect(runtime.reopened).toEqual(['c1']);
      expect(await readFile(log, 'utf8')).toBe('');
    });

    it('asks once about a container reported started that no longer runs, and rotates nothing', async () => {
      const logs = started();
      const log = await addContainer('c1');
      runtime.containers.get('c1')!.state = ContainerState.CONTAINER_EXITED;
      await writeFile(log, 'x'.repeat(4096));
      const before = runtime.statusCalls;
      const timersBefore = clock.pendingTimers();
      await logs.containerStarted('c1');
      // No watch: a watch schedules its first look on the clock as it starts.
      expect(clock.pendingTimers()).toBe(timersBefore);
      await clock.advanceAsync(5000);
      await logs.stop();
      // The one ContainerStatus that found it exited is all it was asked.
      expect(runtime.statusCalls - before).toBe(1);
      expect(runtime.reopened).toEqual([]);
      expect(await readFile(log, 'utf8')).toBe('x'.repeat(4096));
    });

    it('looks ahead of maxSize by the steps before the rename, and still renames only a full file', async () => {
      const log = await addContainer('c1');
      const logs = started();
      await look();
      // Seen running long ago: the rotation asks ContainerStatus first, which takes 100 ms.
      runtime.statusTakes = { clock, ms: 100 };
      await clock.advanceAsync(2000);
      await writeFile(log, 'a'.repeat(600), { flag: 'a' });
      await look();
      await writeFile(log, 'a'.repeat(600), { flag: 'a' });
      await look();
      expect(runtime.reopened).toHaveLength(1);
      runtime.statusTakes = undefined;
      // With that lead and the measured rate, 1000 bytes are due (the 1 KiB maxSize less 10%)...
      for (const bytes of [500, 500]) {
        await writeFile(log, 'b'.repeat(bytes), { flag: 'a' });
        await look();
      }
      // ...but the rename waits for maxSize: a rotated file is never short of it.
      expect(runtime.reopened).toHaveLength(1);
      await writeFile(log, 'b'.repeat(100), { flag: 'a' });
      await look();
      await logs.stop();
      expect(runtime.reopened).toHaveLength(2);
      const rotated = (await readdir(join(dir, 'c1'))).filter((f) => f !== '0.log').sort(compareRotatedLogs);
      expect(await readFile(join(dir, 'c1', rotated.at(-1)!), 'utf8')).toBe('b'.repeat(1100));
    });

    it("does not rename the fresh log a watch's rotation left while a pass waited for the slot", async () => {
      const log = await addContainer('c1');
      const logs = started();
      await look();
      // Seen running long ago: the watch's rotation asks ContainerStatus first, inside its slot.
      await clock.advanceAsync(2000);
      let release = () => {};
      runtime.holdNextStatus = new Promise<void>((resolve) => {
        release = resolve;
      });
      await writeFile(log, 'x'.repeat(2048), { flag: 'a' });
      void clock.advanceAsync(activeLookMs);
      await vi.waitFor(() => expect(runtime.statusHeld).toBe(true), { timeout: 30_000 });
      // A pass now finds the full log, no rotation marked yet, and waits for the one slot.
      const pass = logs.rotateLogs();
      await vi.waitFor(() => expect((logs as unknown as { slots: unknown[] }).slots).toHaveLength(1), {
        timeout: 30_000,
      });
      release();
      await pass;
      await logs.stop();
      expect(runtime.reopened).toEqual(['c1']);
      const rotated = (await readdir(join(dir, 'c1'))).filter((f) => f !== '0.log');
      expect(rotated).toHaveLength(1);
      expect(await readFile(join(dir, 'c1', rotated[0]!), 'utf8')).toBe('x'.repeat(2048));
    });

    it("does not rotate again the fresh log a pass's rotation left while the watch waited for the slot", async () => {
      const log = await addContainer('c1');
      const other = await addContainer('c2');
      const logs = started();
      await look();
      // Seen running long ago: a watch's rotation asks ContainerStatus first, inside its slot.
      await clock.advanceAsync(2000);
      let release = () => {};
      runtime.holdNextStatus = new Promise<void>((resolve) => {
        release = resolve;
      });
      // c2's watch takes the one slot and is held there.
      await writeFile(other, 'y'.repeat(2048), { flag: 'a' });
      void clock.advanceAsync(activeLookMs);
      await vi.waitFor(() => expect(runtime.statusHeld).toBe(true), { timeout: 30_000 });
      const slots = () => (logs as unknown as { slots: unknown[] }).slots;
      // c1 fills: a pass queues for the slot first, then c1's watch sees the full log and queues.
      await writeFile(log, 'x'.repeat(2048), { flag: 'a' });
      const pass = logs.rotateLogs();
      await vi.waitFor(() => expect(slots()).toHaveLength(1), { timeout: 30_000 });
      void clock.advanceAsync(activeLookMs);
      await vi.waitFor(() => expect(slots()).toHaveLength(2), { timeout: 30_000 });
      release();
      await pass;
      // The watch's turn finds c1's fresh, empty log: handled, nothing left waiting for it to fill
      // (before, that wait ran on the clock, and a stop waited for it).
      const inFlight = (logs as unknown as { inFlight: Set<unknown> }).inFlight;
      await vi.waitFor(() => expect(inFlight.size).toBe(0), { timeout: 30_000 });
      await logs.stop();
      expect(runtime.reopened.sort()).toEqual(['c1', 'c2']);
      const rotated = (await readdir(join(dir, 'c1'))).filter((f) => f !== '0.log');
      expect(rotated).toHaveLength(1);
      expect(await readFile(join(dir, 'c1', rotated[0]!), 'utf8')).toBe('x'.repeat(2048));
    });

    it('asks again for a log that went missing while the container runs', async () => {
      const log = await addContainer('c1');
      const logs = started();
      await look();
      await rm(log);
      await look();
      await logs.stop();
      expect(runtime.reopened).toEqual(['c1']);
      expect(await readFile(log, 'utf8')).toBe('');
    });
  });

  it('orders rotated names by time, then by the sequence a same-second rotation adds, compressed or not', async () => {
    const names = ['0.log.20250101-120000-10.gz', '0.log.20250101-120000-2', '0.log.20250101-115959.gz'];
    names.push('0.log.20250101-120000.gz', '0.log.20250101-120001');
    expect(names.sort(compareRotatedLogs)).toEqual([
      '0.log.20250101-115959.gz',
      '0.log.20250101-120000.gz',
      '0.log.20250101-120000-2',
      '0.log.20250101-120000-10.gz',
      '0.log.20250101-120001',
    ]);
    const at = new Date(2025, 0, 1, 12, 0, 0).getTime();
    expect(rotatedLogName('/l/0.log', at, [])).toBe('/l/0.log.20250101-120000');
    expect(rotatedLogName('/l/0.log', at, ['/l/0.log.20250101-120000.gz'])).toBe(
      '/l/0.log.20250101-120000-1',
    );
    expect(
      rotatedLogName('/l/0.log', at, ['/l/0.log.20250101-120000', '/l/0.log.20250101-120000-1.gz']),
    ).toBe('/l/0.log.20250101-120000-2');
    // The second's first file already removed (beyond maxFiles): the next name still sorts last,
    // not in the freed `<timestamp>` slot before the files still there.
    const left = ['/l/0.log.20250101-120000-1', '/l/0.log.20250101-120000-2'];
    const next = rotatedLogName('/l/0.log', at, left);
    expect(next).toBe('/l/0.log.20250101-120000-3');
    expect([next, ...left].sort(compareRotatedLogs).at(-1)).toBe(next);
  });

  it('paces looks at a growing log by the time it needs to reach maxSize', () => {
    // 1 MiB to go at 1 KiB/ms: 1024 ms to full, looked at after half of it, capped at activeLookMs.
    expect(nextLookDelay(1024 * KiB, KiB, 10_000)).toBe(activeLookMs);
    expect(nextLookDelay(100 * KiB, KiB, 10_000)).toBe(50);
    expect(nextLookDelay(KiB, KiB, 10_000)).toBe(minLookMs);
    // No growth measured yet; and never longer than containerLogMonitorInterval.
    expect(nextLookDelay(KiB, 0, 10_000)).toBe(activeLookMs);
    expect(nextLookDelay(1024 * KiB, KiB, 100)).toBe(100);
  });
});
