import { describe, expect, it } from 'vitest';
import { CompactEndpoint, endpointFlags, endpointPlace, NO_HINTS } from '../src/model/compact-endpoint';
import type { EndpointInfo } from '../src/model/endpoint';
import { assignSlots } from '../src/nftables/endpoint-slots';

const ep = (ip: string, port = 8080): EndpointInfo => ({
  ip,
  port,
  endpoint: `${ip}:${port}`,
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
const slots = (...list: string[]) => list.map((ip) => ep(ip));

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

  it('matches previous slots by ip and port, not by record: another port is another endpoint', () => {
    // a:9090 is not the a:8080 of slot 1, so nothing keeps a slot: the given order stands.
    expect(ips(assignSlots([ep('a', 9090), ep('b')], slots('x', 'a')))).toEqual(['a', 'b']);
    // A new record for the same backend keeps its slot.
    expect(ips(assignSlots([ep('a'), ep('b')], slots('x', 'a')))).toEqual(['b', 'a']);
  });

  it('keeps slots the same way beyond 32 previous endpoints (looked up by "ip:port")', () => {
    const many = Array.from({ length: 40 }, (_, i) => `10.0.0.${i}`);
    const now = [...many.slice(1), 'new'].reverse().map((ip) => ep(ip));
    const out = ips(assignSlots(now, slots(...many)));
    expect(out).toEqual(['new', ...many.slice(1)]);
  });

  it("looks the model's records up by address bits and port beyond 32, as plain records", () => {
    const place = endpointPlace('n', '', NO_HINTS);
    const compact = (ip: string, port = 8080) =>
      new CompactEndpoint(
        ip,
        port,
        endpointFlags(false, true, true, false),
        place,
      ) as unknown as EndpointInfo;
    const many = Array.from({ length: 40 }, (_, i) => `10.0.${i}.7`);
    // Slot 0's backend replaced, one moved to another port (another backend), an IPv6 one kept.
    const before = [...many.map((ip) => compact(ip)), compact('fd00::1')];
    const now = [
      compact('10.9.9.9'),
      ...many.slice(1, 39).map((ip) => compact(ip)),
      compact(many[39]!, 9090),
    ];
    now.push(compact('fd00::1'));
    const out = assignSlots(now.reverse(), before);
    expect(out.map((e) => e.endpoint)).toEqual([
      '10.0.39.7:9090',
      ...many.slice(1, 39).map((ip) => `${ip}:8080`),
      '10.9.9.9:8080',
      '[fd00::1]:8080',
    ]);
    // A plain record of the same backend as a model record keeps that record's slot.
    expect(ips(assignSlots([ep('x'), ep('y'), ep(many[1]!)], before))).toEqual(['x', many[1], 'y']);
  });
});
