import { describe, expect, it } from 'vitest';
import { reportingContainerStarts } from '../src/logs/container-start-hook';

// A stand-in with a private field: a method called with the proxy as `this` would throw on it.
class Client {
  #started: string[] = [];
  async startContainer(request: { containerId: string }): Promise<Record<string, never>> {
    if (request.containerId === 'bad') throw new Error('container not created');
    this.#started.push(request.containerId);
    return {};
  }
  startedIds(): string[] {
    return [...this.#started];
  }
}

describe('reportingContainerStarts', () => {
  it('reports each container the runtime started, after the start, and passes everything else through', async () => {
    const client = new Client();
    const reported: { id: string; startedBefore: string[] }[] = [];
    const wrapped = reportingContainerStarts(client, (id) =>
      reported.push({ id, startedBefore: client.startedIds() }),
    );
    await wrapped.startContainer({ containerId: 'c1' });
    await expect(wrapped.startContainer({ containerId: 'bad' })).rejects.toThrow(/not created/);
    await wrapped.startContainer({ containerId: 'c2' });
    expect(reported).toEqual([
      { id: 'c1', startedBefore: ['c1'] },
      { id: 'c2', startedBefore: ['c1', 'c2'] },
    ]);
    expect(wrapped.startedIds()).toEqual(['c1', 'c2']);
  });
});
