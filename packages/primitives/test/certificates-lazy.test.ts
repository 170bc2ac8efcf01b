import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// @nodeagent/primitives/certificates leaves @peculiar/x509 unevaluated until a certificate is
// made (the kubelet imports it at start and makes one only on its first start). Run in a node
// process of its own: a test worker's module caches and globals are shared with other files.
// What x509-setup.ts evaluates first is the reflect-metadata polyfill, which defines
// Reflect.getMetadata: that is what tells whether the library was loaded.
const tsx = createRequire(import.meta.url).resolve('tsx/cli');

const script = `
const certificates = await import('@nodeagent/primitives/certificates');
const before = typeof Reflect.getMetadata;
const pair = await certificates.selfSignedCertificate({ commonName: 'lazy', validForMs: 60_000 });
console.log(JSON.stringify({ before, after: typeof Reflect.getMetadata, pem: pair.cert.startsWith('-----BEGIN CERTIFICATE-----') }));
`;

// The kubelet's serving pair (generateSelfSignedCertKey) is written by der.ts: a first start
// does not evaluate the library either.
const servingPairScript = `
const certificates = await import('@nodeagent/primitives/certificates');
const pair = await certificates.generateSelfSignedCertKey('lazy', new Date());
console.log(JSON.stringify({ after: typeof Reflect.getMetadata, pem: pair.cert.startsWith('-----BEGIN CERTIFICATE-----') }));
`;

function runModule(source: string) {
  return spawnSync(
    process.execPath,
    [tsx, '--conditions=@nodeagent/source', '--input-type=module', '-e', source],
    {
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
}

describe('@nodeagent/primitives/certificates', () => {
  it('evaluates @peculiar/x509 only when the first certificate is made', () => {
    const r = runModule(script);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      before: 'undefined',
      after: 'function',
      pem: true,
    });
  });

  it('makes the kubelet serving pair without evaluating @peculiar/x509', () => {
    const r = runModule(servingPairScript);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ after: 'undefined', pem: true });
  });
});
