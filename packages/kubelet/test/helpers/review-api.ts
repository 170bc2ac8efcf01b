import { webcrypto } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ecdsaP256, randomSerial, x509 } from '@nodeagent/primitives/x509';

/** A user the review API knows by bearer token, and the nodes subresources RBAC grants it. */
export interface TokenUser {
  name: string;
  groups: string[];
  /** nodes/<subresource> of every node, every verb. */
  subresources: string[];
}

/** One SubjectAccessReview as the kubelet sent it. */
export interface ReviewedAccess {
  user: string;
  verb: string;
  subresource: string;
  name: string;
}

/** The review API's address, what it was asked, and a way to stop it. */
export interface ReviewApi {
  kubeConfig: KubeConfig;
  reviews: ReviewedAccess[];
  close(): Promise<void>;
}

function readJson(request: import('node:http').IncomingMessage): Promise<Record<string, never>> {
  return new Promise((resolve, reject) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(JSON.parse(text || '{}')));
    request.on('error', reject);
  });
}

/**
 * The two review endpoints a kubelet with webhook authentication and authorization calls, over
 * HTTP as the API server serves them: TokenReview answers the users of `tokens`, and
 * SubjectAccessReview allows `system:masters` everything and a token user the nodes
 * subresources it was granted (RBAC's nodes/<subresource> rules), nothing else.
 */
export async function startReviewApi(tokens: Record<string, TokenUser>): Promise<ReviewApi> {
  const reviews: ReviewedAccess[] = [];
  const granted = new Map(Object.values(tokens).map((user) => [user.name, user.subresources]));
  const server: Server = createServer(async (request, response) => {
    const body = (await readJson(request)) as {
      spec?: {
        token?: string;
        user?: string;
        groups?: string[];
        resourceAttributes?: { verb: string; resource: string; subresource: string; name: string };
      };
    };
    const answer = (status: object) => {
      response.writeHead(201, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ ...body, status }));
    };
    if (request.url === '/apis/authentication.k8s.io/v1/tokenreviews') {
      const user = tokens[body.spec?.token ?? ''];
      return answer(
        user
          ? { authenticated: true, user: { username: user.name, groups: user.groups } }
          : { authenticated: false, error: 'invalid bearer token' },
      );
    }
    if (request.url === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      const { user = '', groups = [], resourceAttributes: attributes } = body.spec ?? {};
      if (!attributes) return answer({ allowed: false });
      reviews.push({
        user,
        verb: attributes.verb,
        subresource: attributes.subresource,
        name: attributes.name,
      });
      const allowed =
        groups.includes('system:masters') ||
        (attributes.resource === 'nodes' && (granted.get(user) ?? []).includes(attributes.subresource));
      return answer({ allowed });
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      // The client refuses plain HTTP unless told to skip TLS checks; this server speaks HTTP.
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'kubelet' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'kubelet' }],
    currentContext: 'c',
  });
  return {
    kubeConfig,
    reviews,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client CA and one client certificate it issued (CN user, O groups), as PEM. */
export interface ClientCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecdsaP256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

/** authentication.x509.clientCAFile's CA and a client certificate for `commonName` in `organisations`. */
export async function clientCertificate(
  commonName: string,
  organisations: string[],
): Promise<ClientCertificate> {
  const now = Date.now();
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: 'CN=na-client-ca',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    keys: caKeys,
    signingAlgorithm: ecdsaP256,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.digitalSignature, true),
    ],
  });
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [`CN=${commonName}`, ...organisations.map((o) => `O=${o}`)].join(', '),
    issuer: ca.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 3600_000),
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ecdsaP256,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem };
}
