import { mkdtempSync, rmSync } from 'node:fs';
import { type Server as HttpsServer, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKubeletConfiguration } from '../src/config/kubelet-configuration';
import type { Kubelet } from '../src/kubelet';
import { createKubeletServer, listen, type RunningServer } from '../src/server/kubelet-server';
import { loadOrWriteSelfSignedServingFiles } from '../src/server/self-signed-serving-files';
import { alwaysAllow, kubeletAuthenticator } from '../src/server/server-auth';
import { servingTlsSettings, type TlsConfigurationFields } from '../src/server/serving-tls-settings';
import { clientCertificate } from './helpers/client-certificate';
import { configProblems } from './helpers/config-problems';

// tlsCipherSuites, tlsMinVersion and tlsCurvePreferences reach the kubelet server's handshake as
// upstream's Go tls.Config would have them: checked here by handshakes against a real server.

const defaults: TlsConfigurationFields = { tlsCipherSuites: [], tlsMinVersion: '', tlsCurvePreferences: [] };

// The pair the kubelet serves with when none is configured (RSA, as upstream's), so RSA suites apply.
let serving: { cert: Buffer; key: Buffer };
const certDirectory = mkdtempSync(join(tmpdir(), 'na-serving-tls-'));
beforeAll(async () => {
  const { cert, key } = await loadOrWriteSelfSignedServingFiles({ certDirectory, host: 'node-a' });
  serving = { cert, key };
});
afterAll(() => rmSync(certDirectory, { recursive: true, force: true }));

/** A kubelet server on a free port with the settings the fields give. */
async function serverWith(fields: Partial<TlsConfigurationFields>): Promise<RunningServer> {
  const { settings } = servingTlsSettings({ ...defaults, ...fields });
  return listen(
    createKubeletServer({
      // Only handshakes here: no request reaches a handler, so no kubelet is needed behind it.
      kubelet: {} as Kubelet,
      nodeName: 'node-a',
      podLogsDir: '/nonexistent',
      authenticate: kubeletAuthenticator({ x509: false, anonymous: true }),
      authorize: alwaysAllow,
      tls: { ...serving, settings },
    }),
    0,
    '127.0.0.1',
  );
}

/** The handshake's outcome for a client offering only `client`: the suite and version, or the failure. */
function handshake(port: number, client: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: serving.cert, servername: 'node-a', ...client });
    socket.once('secureConnect', () => {
      resolve(`${socket.getProtocol()} ${socket.getCipher().standardName}`);
      socket.end();
    });
    socket.once('error', () => resolve('refused'));
  });
}

describe('the kubelet server with upstream TLS settings', () => {
  const servers: RunningServer[] = [];
  const start = async (fields: Partial<TlsConfigurationFields>) => {
    const server = await serverWith(fields);
    servers.push(server);
    return server.port;
  };
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it("without settings offers Go's defaults: TLS 1.2 and up, ECDHE suites only (no DHE, no RSA key exchange)", async () => {
    const port = await start({});
    const tls12 = { maxVersion: 'TLSv1.2' } as const;
    expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    );
    expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES256-SHA' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
    );
    // Node's own default list has both; Go's has neither.
    expect(await handshake(port, { ...tls12, ciphers: 'DHE-RSA-AES128-GCM-SHA256' })).toBe('refused');
    expect(await handshake(port, { ...tls12, ciphers: 'AES128-GCM-SHA256' })).toBe('refused');
    expect(
      await handshake(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    ).toBe('refused');
    expect(await handshake(port, {})).toMatch(/^TLSv1\.3 TLS_AES_/);
  });

  it('tlsCipherSuites: only the listed TLS 1.2 suites, in any order; TLS 1.3 suites stay all on', async () => {
    const port = await start({
      tlsCipherSuites: [
        'TLS_AES_128_GCM_SHA256',
        'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
        'TLS_RSA_WITH_AES_128_GCM_SHA256',
      ],
    });
    const tls12 = { maxVersion: 'TLSv1.2' } as const;
    expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' })).toBe('refused');
    expect(await handshake(port, { ...tls12, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384' })).toBe(
      'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    );
    expect(await handshake(port, { ...tls12, ciphers: 'AES128-GCM-SHA256' })).toBe(
      'TLSv1.2 TLS_RSA_WITH_AES_128_GCM_SHA256',
    );
    // Go's preference order decides, not the client's.
    expect(
      await handshake(port, { ...tls12, ciphers: 'AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384' }),
    ).toBe('TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    expect(await handshake(port, { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' })).toBe(
      'TLSv1.3 TLS_CHACHA20_POLY1305_SHA256',
    );
  });

  it('tlsMinVersion: VersionTLS13 refuses TLS 1.2; VersionTLS10 negotiates TLS 1.0 as Go does', async () => {
    const tls13Only = await start({ tlsMinVersion: 'VersionTLS13' });
    expect(await handshake(tls13Only, { maxVersion: 'TLSv1.2' })).toBe('refused');
    expect(await handshake(tls13Only, {})).toMatch(/^TLSv1\.3 /);
    const tls10 = await start({ tlsMinVersion: 'VersionTLS10' });
    expect(
      await handshake(tls10, {
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1',
        ciphers: 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0',
      }),
    ).toBe('TLSv1 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA');
  });

  it("without tlsCurvePreferences offers Go 1.26's groups only (no X448, which OpenSSL's defaults have)", async () => {
    const port = await start({});
    expect(await handshake(port, { ecdhCurve: 'X448' })).toBe('refused');
    expect(await handshake(port, { ecdhCurve: 'P-521' })).toMatch(/^TLSv1\.3 /);
  });

  it('tlsCurvePreferences: only the listed key exchange groups', async () => {
    const port = await start({ tlsCurvePreferences: [24] });
    expect(await handshake(port, { ecdhCurve: 'X25519' })).toBe('refused');
    expect(await handshake(port, { ecdhCurve: 'P-384' })).toMatch(/^TLSv1\.3 /);
    expect(await handshake(port, { maxVersion: 'TLSv1.2', ecdhCurve: 'P-256' })).toBe('refused');
  });
});

describe('a new serving certificate (serverTLSBootstrap rotation)', () => {
  /** The status of GET /configz, which needs an authenticated caller, with `client` as the TLS client's options. */
  function configzStatus(port: number, client: { cert?: string; key?: string }): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/configz',
          ca: serving.cert,
          servername: 'node-a',
          agent: false,
          ...client,
        },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.once('error', reject);
      request.end();
    });
  }

  it('keeps the TLS settings and the client CA: only the certificate and key change', async () => {
    const admin = await clientCertificate('admin', ['system:masters']);
    const { settings } = servingTlsSettings({
      ...defaults,
      tlsMinVersion: 'VersionTLS13',
      tlsCurvePreferences: [24],
    });
    const running = await listen(
      createKubeletServer({
        kubelet: {} as Kubelet,
        nodeName: 'node-a',
        podLogsDir: '/nonexistent',
        configz: () => ({ maxPods: 110 }),
        authenticate: kubeletAuthenticator({ x509: true, anonymous: false }),
        authorize: alwaysAllow,
        tls: { ...serving, ca: admin.caPem, settings },
      }),
      0,
      '127.0.0.1',
    );
    try {
      // As serveCurrentCertificate swaps in a rotated pair.
      (running.server as HttpsServer).setSecureContext({ cert: serving.cert, key: serving.key });
      expect(await configzStatus(running.port, { cert: admin.certPem, key: admin.keyPem })).toBe(200);
      expect(await configzStatus(running.port, {})).toBe(401);
      expect(await handshake(running.port, { maxVersion: 'TLSv1.2' })).toBe('refused');
      expect(await handshake(running.port, { ecdhCurve: 'X25519' })).toBe('refused');
      expect(await handshake(running.port, { ecdhCurve: 'P-384' })).toMatch(/^TLSv1\.3 /);
    } finally {
      await running.close();
    }
  });
});

describe('servingTlsSettings warnings', () => {
  it("gives upstream's warning for each insecure suite, by the name it was given", () => {
    const { warnings } = servingTlsSettings({
      ...defaults,
      tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
    });
    expect(warnings).toEqual(["Use of insecure cipher 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256' detected."]);
  });

  it('names a suite this runtime cannot offer instead of dropping it silently (RC4: not in OpenSSL 3)', () => {
    const { settings, warnings } = servingTlsSettings({
      ...defaults,
      tlsCipherSuites: ['TLS_RSA_WITH_RC4_128_SHA'],
    });
    expect(warnings).toEqual([
      "Use of insecure cipher 'TLS_RSA_WITH_RC4_128_SHA' detected.",
      "tlsCipherSuites: TLS_RSA_WITH_RC4_128_SHA is not offered: this runtime's TLS library has no such suite",
    ]);
    expect(settings.ciphers).not.toContain('RC4');
  });

  it("keeps Go's group order, and names a listed group this runtime's OpenSSL lacks (ML-KEM before OpenSSL 3.5)", () => {
    expect(servingTlsSettings({ ...defaults, tlsCurvePreferences: [24, 29] }).settings.ecdhCurve).toBe(
      'X25519:P-384',
    );
    const { settings, warnings } = servingTlsSettings({ ...defaults, tlsCurvePreferences: [4588, 23] });
    if (warnings.length === 0) expect(settings.ecdhCurve).toBe('X25519MLKEM768:P-256');
    else {
      expect(warnings).toEqual([
        "tlsCurvePreferences: 4588 (X25519MLKEM768) is not offered: this runtime's TLS library has no such group",
      ]);
      expect(settings.ecdhCurve).toBe('P-256');
    }
  });

  it('takes the legacy ChaCha20 names component-base keeps', () => {
    const { settings, warnings } = servingTlsSettings({
      ...defaults,
      tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305'],
    });
    expect(warnings).toEqual([]);
    expect(settings.ciphers).toBe(
      'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-CHACHA20-POLY1305',
    );
  });
});

describe('tlsCipherSuites in the configuration', () => {
  it("refuses a name Go does not know, in upstream's words, and names the field", () => {
    expect(configProblems({ tlsCipherSuites: ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_FOO'] })).toEqual(
      ["tlsCipherSuites: Cipher suite TLS_FOO not supported or doesn't exist"],
    );
    // OpenSSL's spelling is not Go's.
    expect(configProblems({ tlsCipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256'] })).toEqual([
      "tlsCipherSuites: Cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported or doesn't exist",
    ]);
  });

  it('accepts every name upstream lists, TLS 1.3 and legacy ones included', () => {
    const names = [
      'TLS_AES_256_GCM_SHA384',
      'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
      'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
      'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
    ];
    expect(parseKubeletConfiguration({ tlsCipherSuites: names }).config.tlsCipherSuites).toEqual(names);
  });
});
