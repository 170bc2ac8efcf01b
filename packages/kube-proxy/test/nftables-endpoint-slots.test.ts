import { describe, expect, it } from 'vitest';
import type { EndpointInfo } from '../src/model/endpoint';
import { assignSlots } from '../src/nftables/endpoint-slots';

const ep = (ip: string): EndpointInfo => ({
  ip,
  port: 8080,
  endpoint: `${ip}:8080`,
  isLocal: false,
  ready: true,
  serving: true,
  terminating: false,
  zoneHints: [],
  nodeHints: [],
  nodeName: 'n',
  zone: '',
});
const ips = (eps: readonly EndpointInfo[]) => eps.map((e) => e.ip);
const slots = (...list: string[]) => list.map((ip) => `${ip}:8080`);

describe('assignSlots', () => {
  it('keeps the given order without history', () => {
    expect(ips(assignSlots([ep('a'), ep('b')], []))).toEqual(['a', 'b']);
  });

  it('puts a replacement into the replaced endpoint slot', () => {
    expect(ips(assignSlots([ep('a'), ep('c'), ep('d')], slots('a', 'b', 'c')))).toEqual(['a', 'd', 'c']);
  });

  it('moves the endpoint of a vanished last slot into the hole of a removed one', () => {
    expect(ips(assignSlots([ep('a'), ep('c'), ep('d')], slots('a', 'b', 'c', 'd')))).toEqual(['a', 'd', 'c']);
  });

  it('appends new endpoints after the kept ones', () => {
    expect(ips(assignSlots([ep('x'), ep('b'), ep('a')], slots('a', 'b')))).toEqual(['a', 'b', 'x']);
  });
});
