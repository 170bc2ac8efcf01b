import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { codecFunctionsModule } from '../scripts/generate-codecs';
import { messageCodec } from '../src/codec';
import { runtimeV1Descriptor } from '../src/generated/descriptor';
import { runtimeV1Root } from '../src/reflection-root';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('codec functions generated at build time', () => {
  it('are what the installed protobufjs generates for the descriptor (else rerun scripts/generate-codecs.ts)', () => {
    const committed = readFileSync(new URL('../src/generated/codec-functions.ts', import.meta.url), 'utf8');
    expect(committed).toBe(codecFunctionsModule());
  });

  it('come from a descriptor that is still the .proto (else rerun scripts/generate.ts, then this one)', () => {
    // As scripts/generate.ts reads it; JSON on both sides drops the descriptor's `as const`.
    const proto = readFileSync(new URL('../proto/runtime-v1.proto', import.meta.url), 'utf8');
    const root = protobuf.parse(proto, { keepCase: false }).root;
    root.resolveAll();
    expect(JSON.parse(JSON.stringify(root.toJSON()))).toEqual(
      JSON.parse(JSON.stringify(runtimeV1Descriptor)),
    );
  });

  it('encode and decode a type without protobufjs generating code at run time', () => {
    const codegen = vi.spyOn(protobuf.util, 'codegen');
    const codec = messageCodec<{ filter: { id: string; labelSelector: Record<string, string> } | null }>(
      'ListContainerStatsRequest',
    );
    const value = { filter: { id: 'c1', podSandboxId: 's1', labelSelector: { a: 'b' } } };
    expect(codec.decode(codec.encode(value))).toEqual(value);
    expect(codegen).not.toHaveBeenCalled();
  });

  it('still verifies a message, generating the verifier on its first call', () => {
    const type = runtimeV1Root().lookupType('runtime.v1.ImageSpec');
    expect(type.verify({ image: 'busybox' })).toBeNull();
    expect(type.verify({ image: 7 })).toBe('image: string expected');
  });
});
