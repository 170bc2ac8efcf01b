import { describe, expect, it } from 'vitest';
import { Ipvs, IpvsAlreadyExistsError } from '../src/index';
import {
  type BatchMessage,
  constants,
  decodeGenl,
  type GenlTransport,
  NetlinkErrnoError,
} from '../src/netlink/index';

/** Records the order of everything sent; fails the batch entries whose service port is in `failPorts`. */
class BatchingFake implements GenlTransport {
  log: string[] = [];
  batchSizes: number[] = [];
  constructor(private readonly failPorts: Set<number>) {}

  async request(type: number, _flags: number, payload: Buffer): Promise<Buffer[]> {
    if (type === constants.GENL_ID_CTRL)
      return [Buffer.from('0102000006000100220000000800030001000000', 'hex')];
    this.log.push(`request cmd ${decodeGenl(payload).cmd}`);
    return [];
  }

  async requestBatch(
    _type: number,
    messages: readonly BatchMessage[],
  ): Promise<(NetlinkErrnoError | undefined)[]> {
    this.batchSizes.push(messages.length);
    return messages.map((m) => {
      const { cmd, attrs } = decodeGenl(m.payload);
      this.log.push(`batched cmd ${cmd}`);
      const svc = decodeGenl(Buffer.concat([Buffer.alloc(4), attrs.get(constants.CmdAttr.SERVICE)!])).attrs;
      const port = svc.get(constants.SvcAttr.PORT)?.readUInt16BE(0);
      return port !== undefined && this.failPorts.has(port) ? new NetlinkErrnoError(17, 'EEXIST') : undefined;
    });
  }

  close() {}
}

const key = (port: number) => ({ protocol: 'tcp', address: '10.0.0.1', port }) as const;

describe('write batching', () => {
  it('coalesces writes of one tick, giving each caller its own result', async () => {
    const t = new BatchingFake(new Set([3]));
    const ipvs = await Ipvs.open({ transport: t });
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map((p) => ipvs.addService({ ...key(p), scheduler: 'rr' })),
    );
    expect(t.batchSizes).toEqual([5]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const err = (results[2] as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(IpvsAlreadyExistsError);
    expect(err.message).toContain('service TCP 10.0.0.1:3');
  });

  it('splits at maxBatch and sends a read only after the writes issued before it', async () => {
    const t = new BatchingFake(new Set());
    const ipvs = await Ipvs.open({ transport: t, maxBatch: 2 });
    await Promise.all([
      ipvs.addService({ ...key(1), scheduler: 'rr' }),
      ipvs.addService({ ...key(2), scheduler: 'rr' }),
      ipvs.addService({ ...key(3), scheduler: 'rr' }),
      ipvs.listServices(),
      ipvs.deleteService(key(1)),
    ]);
    expect(t.batchSizes).toEqual([2, 1, 1]);
    expect(t.log).toEqual([
      'batched cmd 1',
      'batched cmd 1',
      'batched cmd 1',
      'request cmd 4',
      'batched cmd 3',
    ]);
  });

  it('maxBatch 0 sends every write as its own request', async () => {
    const t = new BatchingFake(new Set());
    const ipvs = await Ipvs.open({ transport: t, maxBatch: 0 });
    await Promise.all([ipvs.addService({ ...key(1), scheduler: 'rr' }), ipvs.flush()]);
    expect(t.batchSizes).toEqual([]);
    expect(t.log).toEqual(['request cmd 1', 'request cmd 17']);
  });
});
