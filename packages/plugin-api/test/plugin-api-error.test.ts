import { describe, expect, it } from 'vitest';
import { isPluginApiError, PluginApiError } from '../src/plugin-api-error';
import { messageCodec, pluginServiceDefinition } from '../src/plugin-services';

describe('PluginApiError', () => {
  it('names an unknown service and lists the known ones', () => {
    const err = (() => {
      try {
        pluginServiceDefinition('v1.DRAPlugin');
      } catch (e) {
        return e;
      }
    })();
    expect(isPluginApiError(err, 'UNKNOWN_SERVICE')).toBe(true);
    expect((err as PluginApiError).typeName).toBe('v1.DRAPlugin');
    expect((err as Error).message).toMatch(
      /no node-plugin API service v1.DRAPlugin \(known: .*k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin/,
    );
  });

  it('names an unknown message type on first use', () => {
    const codec = messageCodec('v1.Nothing');
    expect(() => codec.decode(new Uint8Array())).toThrow(PluginApiError);
    expect(() => codec.encode({})).toThrow(/no node-plugin API message type v1.Nothing/);
  });

  it('names the message type of a value that does not fit it', () => {
    const codec = messageCodec('k8s.io.kubelet.pkg.apis.dra.v1.NodePrepareResourcesRequest');
    let caught: unknown;
    try {
      codec.encode({ claims: 'not a list' } as never);
    } catch (e) {
      caught = e;
    }
    expect(isPluginApiError(caught, 'INVALID_MESSAGE')).toBe(true);
    expect(isPluginApiError(caught, 'UNKNOWN_SERVICE')).toBe(false);
    expect((caught as Error).message).toMatch(
      /^cannot encode k8s.io.kubelet.pkg.apis.dra.v1.NodePrepareResourcesRequest: .*claims: array expected/,
    );
  });

  it('is recognised from another copy of the class by the shared predicate', () => {
    expect(isPluginApiError(new Error('x'))).toBe(false);
    expect(isPluginApiError(new PluginApiError('INVALID_MESSAGE', 't', 'm'))).toBe(true);
  });
});
