import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ObjectStore } from '../src/apiserver/object-store';
import { findResourceType, resourceKey } from '../src/apiserver/resource-types';
import { WatchHub } from '../src/apiserver/watch-hub';

/**
 * A response as Node's behaves between end() and its 'close' event: ended, not destroyed, and a
 * write then is ERR_STREAM_WRITE_AFTER_END (an unhandled 'error' that killed the in-process server
 * in the kubelet CPU bench at 500 pods, when a change came in just after a watch's timeout).
 */
class EndedLaterResponse extends EventEmitter {
  destroyed = false;
  writableEnded = false;
  readonly lines: string[] = [];
  writeHead(): this {
    return this;
  }
  flushHeaders(): void {}
  write(chunk: string): boolean {
    if (this.writableEnded)
      throw Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' });
    this.lines.push(chunk);
    return true;
  }
  end(): this {
    this.writableEnded = true;
    return this;
  }
}

describe('a watch whose server-side timeout has ended its response', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends nothing more, even before the response reports close', async () => {
    vi.useFakeTimers();
    const store = new ObjectStore(100);
    const hub = new WatchHub(store, 60_000);
    const rt = findResourceType('', 'v1', 'configmaps');
    if (!rt) throw new Error('configmaps not a known resource type');
    const res = new EndedLaterResponse();
    const request = {
      rt,
      labels: [],
      fields: [],
      sendInitialEvents: false,
      allowBookmarks: false,
      timeoutSeconds: 1,
    };
    hub.serve(request, res as unknown as ServerResponse);
    await vi.advanceTimersByTimeAsync(0);
    store.put(resourceKey(rt), { metadata: { name: 'before', namespace: 'default' } }, 'ADDED');
    expect(res.lines.map((l) => JSON.parse(l).object.metadata.name)).toEqual(['before']);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(res.writableEnded).toBe(true);
    // No 'close' yet: the change below must not be written to the ended response.
    expect(() =>
      store.put(resourceKey(rt), { metadata: { name: 'after', namespace: 'default' } }, 'ADDED'),
    ).not.toThrow();
    expect(res.lines).toHaveLength(1);
    res.emit('close');
    expect(hub.size).toBe(0);
  });
});
