import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: wire JSON
type Any = any;

/*
 * The v1.36 pod fields as pkg/apis/core/validation (v1.36) checks them on create: field paths,
 * reasons and messages are upstream's (field.Error's ErrorBody), compared exactly.
 */
describe('v1.36 pod field validation (422 Invalid, upstream paths and messages)', () => {
  let server: ApiServer;
  let seq = 0;
  const create = async (spec: Any) => {
    const name = `p${++seq}`;
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name }, spec }),
    });
    return { name, status: res.status, body: (await res.json()) as Any };
  };
  /** The 422's causes as `field: message`, after checking the reasons and the summary line. */
  const refused = async (spec: Any, reasons: string[]) => {
    const { name, status, body } = await create(spec);
    expect(status, JSON.stringify(body)).toBe(422);
    expect(body.reason).toBe('Invalid');
    const lines = body.details.causes.map((c: Any) => `${c.field}: ${c.message}`);
    expect(body.details.causes.map((c: Any) => c.reason)).toEqual(reasons);
    expect(body.message).toBe(
      `Pod "${name}" is invalid: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`,
    );
    return lines;
  };
  const accepted = async (spec: Any) => {
    const { status, body } = await create(spec);
    expect(status, JSON.stringify(body)).toBe(201);
    return body;
  };
  const c = (extra: Any = {}) => ({ name: 'c', image: 'i:1', ...extra });
  const rule = (action: string, operator: string, values: number[]) => ({
    action,
    exitCodes: { operator, values },
  });

  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  describe('container restartPolicy and restartPolicyRules (ContainerRestartRules)', () => {
    it('accepts every container restartPolicy on regular containers, with Restart and RestartAllContainers rules', async () => {
      await accepted({
        restartPolicy: 'Never',
        containers: [
          c({ restartPolicy: 'Never', restartPolicyRules: [rule('Restart', 'In', [42])] }),
          c({
            name: 'd',
            restartPolicy: 'OnFailure',
            restartPolicyRules: [rule('RestartAllContainers', 'NotIn', [0, 1])],
          }),
          c({ name: 'e', restartPolicy: 'Always' }),
        ],
      });
    });

    it('refuses an unknown restartPolicy', async () => {
      expect(
        await refused({ containers: [c({ restartPolicy: 'Sometimes' })] }, ['FieldValueNotSupported']),
      ).toEqual([
        'spec.containers[0].restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"',
      ]);
    });

    it('requires a restartPolicy once rules are given, in init containers too', async () => {
      expect(
        await refused(
          {
            initContainers: [c({ name: 'i', restartPolicyRules: [rule('Restart', 'In', [1])] })],
            containers: [c({ restartPolicyRules: [rule('Restart', 'In', [1])] })],
          },
          ['FieldValueRequired', 'FieldValueRequired'],
        ),
      ).toEqual([
        'spec.containers[0].restartPolicy: Required value: must specify restartPolicy when restart rules are used',
        'spec.initContainers[0].restartPolicy: Required value: must specify restartPolicy when restart rules are used',
      ]);
    });

    it('refuses an unknown action and operator, and a rule without exitCodes', async () => {
      expect(
        await refused(
          {
            containers: [
              c({
                restartPolicy: 'Never',
                restartPolicyRules: [rule('Stop', 'Equals', [1]), { action: 'Restart' }],
              }),
            ],
          },
          ['FieldValueNotSupported', 'FieldValueNotSupported', 'FieldValueRequired'],
        ),
      ).toEqual([
        'spec.containers[0].restartPolicyRules[0].action: Unsupported value: "Stop": supported values: "Restart", "RestartAllContainers"',
        'spec.containers[0].restartPolicyRules[0].exitCodes.operator: Unsupported value: "Equals": supported values: "In", "NotIn"',
        'spec.containers[0].restartPolicyRules[1].exitCodes: Required value: must be specified',
      ]);
    });

    it('allows 255 exit codes and refuses 256 (TooMany, as fixed upstream in v1.36)', async () => {
      const codes = (n: number) => Array.from({ length: n }, (_, i) => i);
      await accepted({
        containers: [c({ restartPolicy: 'Never', restartPolicyRules: [rule('Restart', 'In', codes(255))] })],
      });
      expect(
        await refused(
          {
            containers: [
              c({ restartPolicy: 'Never', restartPolicyRules: [rule('Restart', 'In', codes(256))] }),
            ],
          },
          ['FieldValueTooMany'],
        ),
      ).toEqual([
        'spec.containers[0].restartPolicyRules[0].exitCodes.values: Too many: 256: must have at most 255 items',
      ]);
    });

    it('allows 20 rules and refuses 21', async () => {
      const rules = (n: number) => Array.from({ length: n }, () => rule('Restart', 'In', [1]));
      await accepted({ containers: [c({ restartPolicy: 'Never', restartPolicyRules: rules(20) })] });
      expect(
        await refused({ containers: [c({ restartPolicy: 'Never', restartPolicyRules: rules(21) })] }, [
          'FieldValueTooMany',
        ]),
      ).toEqual(['spec.containers[0].restartPolicyRules: Too many: 21: must have at most 20 items']);
    });

    it('like upstream, lets duplicate and negative exit codes through', async () => {
      await accepted({
        containers: [c({ restartPolicy: 'Never', restartPolicyRules: [rule('Restart', 'In', [3, 3, -1])] })],
      });
    });

    it('accepts rules on a sidecar and on a plain init container (RestartAllContainers on)', async () => {
      await accepted({
        initContainers: [
          c({
            name: 's',
            restartPolicy: 'Always',
            restartPolicyRules: [rule('RestartAllContainers', 'In', [7])],
          }),
          c({ name: 'i', restartPolicy: 'Never', restartPolicyRules: [rule('Restart', 'In', [7])] }),
        ],
        containers: [c()],
      });
    });

    it('refuses hooks and probes on an init container that is not a sidecar', async () => {
      const probe = { exec: { command: ['true'] } };
      expect(
        await refused(
          {
            initContainers: [
              c({ name: 'i', lifecycle: { preStop: { sleep: { seconds: 1 } } }, livenessProbe: probe }),
              c({ name: 's', restartPolicy: 'Always', lifecycle: { preStop: { sleep: { seconds: 1 } } } }),
            ],
            containers: [c()],
          },
          ['FieldValueForbidden', 'FieldValueForbidden'],
        ),
      ).toEqual([
        'spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always',
        'spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
      ]);
    });
  });

  describe('hostnameOverride (HostnameOverride)', () => {
    it('accepts an RFC 1123 subdomain of up to 64 bytes', async () => {
      const pod = await accepted({ hostnameOverride: `${'a'.repeat(60)}.b.c`, containers: [c()] });
      expect(pod.spec.hostnameOverride).toBe(`${'a'.repeat(60)}.b.c`);
    });

    it('refuses it with hostNetwork or setHostnameAsFQDN', async () => {
      expect(
        await refused(
          { hostnameOverride: 'h', hostNetwork: true, setHostnameAsFQDN: true, containers: [c()] },
          ['FieldValueForbidden', 'FieldValueForbidden'],
        ),
      ).toEqual([
        'spec.hostnameOverride: Forbidden: may not be specified when setHostnameAsFQDN is true',
        'spec.hostnameOverride: Forbidden: may not be specified when hostNetwork is true',
      ]);
    });

    it('refuses more than 64 bytes without quoting the value', async () => {
      expect(
        await refused({ hostnameOverride: 'a'.repeat(65), containers: [c()] }, ['FieldValueTooLong']),
      ).toEqual(['spec.hostnameOverride: Too long: may not be more than 64 bytes']);
    });

    it('refuses a name that is not an RFC 1123 subdomain', async () => {
      expect(
        await refused({ hostnameOverride: 'My_Host', containers: [c()] }, ['FieldValueInvalid']),
      ).toEqual([
        `spec.hostnameOverride: Invalid value: "My_Host": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      ]);
    });
  });

  describe('env valueFrom.fileKeyRef (EnvFiles)', () => {
    const withRef = (ref: Any, volumes: Any[] = [{ name: 'data', emptyDir: {} }]) => ({
      volumes,
      containers: [c({ env: [{ name: 'E', valueFrom: { fileKeyRef: ref } }] })],
    });
    const field = 'spec.containers[0].env[0].valueFrom.fileKeyRef';

    it('accepts a key from a file on an emptyDir volume, and a relaxed key name', async () => {
      await accepted(withRef({ volumeName: 'data', path: 'dir/config.env', key: 'my key.1' }));
    });

    it('refuses a volume the pod does not have, and one that is not an emptyDir', async () => {
      expect(
        await refused(withRef({ volumeName: 'nope', path: 'a', key: 'K' }), ['FieldValueNotFound']),
      ).toEqual([`${field}.volumeName: Not found: "nope"`]);
      expect(
        await refused(
          withRef({ volumeName: 'data', path: 'a', key: 'K' }, [{ name: 'data', configMap: { name: 'cm' } }]),
          ['FieldValueInvalid'],
        ),
      ).toEqual([`${field}.volumeName: Invalid value: "data": referenced volume must be of type emptyDir`]);
    });

    it("refuses a path with a '..' element (an absolute one passes, as upstream)", async () => {
      expect(
        await refused(withRef({ volumeName: 'data', path: 'a/../b', key: 'K' }), ['FieldValueInvalid']),
      ).toEqual([`${field}.path: Invalid value: "a/../b": must not contain '..'`]);
      await accepted(withRef({ volumeName: 'data', path: '/abs/file', key: 'K' }));
    });

    it("refuses a key with '=' and requires key, volumeName and path", async () => {
      expect(
        await refused(withRef({ volumeName: 'data', path: 'a', key: 'A=B' }), ['FieldValueInvalid']),
      ).toEqual([
        `${field}.key: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
      ]);
      expect(
        await refused(withRef({}), [
          'FieldValueRequired',
          'FieldValueRequired',
          'FieldValueRequired',
          'FieldValueNotFound',
        ]),
      ).toEqual([
        `${field}.key: Required value`,
        `${field}.volumeName: Required value`,
        `${field}.path: Required value`,
        `${field}.volumeName: Not found: ""`,
      ]);
    });

    it('refuses a volume name that is not a DNS-1123 label', async () => {
      const lines = await refused(withRef({ volumeName: 'Bad_Vol', path: 'a', key: 'K' }), [
        'FieldValueInvalid',
        'FieldValueNotFound',
      ]);
      expect(lines[0]).toBe(
        `${field}.volumeName: Invalid value: "Bad_Vol": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      );
    });
  });

  describe('securityContext.seLinuxChangePolicy', () => {
    it('accepts Recursive', async () => {
      await accepted({ securityContext: { seLinuxChangePolicy: 'Recursive' }, containers: [c()] });
    });

    it('refuses MountOption on a new pod while SELinuxMount is off, and unknown values', async () => {
      for (const value of ['MountOption', 'Sometimes'])
        expect(
          await refused({ securityContext: { seLinuxChangePolicy: value }, containers: [c()] }, [
            'FieldValueNotSupported',
          ]),
        ).toEqual([
          `spec.securityContext.seLinuxChangePolicy: Unsupported value: "${value}": supported values: "Recursive"`,
        ]);
    });
  });

  describe('lifecycle.stopSignal (ContainerStopSignals off)', () => {
    it('is dropped before validation, so even a pod without spec.os is created, without the field', async () => {
      const pod = await accepted({ containers: [c({ lifecycle: { stopSignal: 'SIGBOGUS' } })] });
      expect(pod.spec.containers[0].lifecycle).toBeUndefined();
    });
  });

  describe('Node status.declaredFeatures', () => {
    it('is kept as the kubelet patched it', async () => {
      const nodes = `${server.url}/api/v1/nodes`;
      const made = await fetch(nodes, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ metadata: { name: 'n-declared' } }),
      });
      expect(made.status).toBe(201);
      const declared = ['ExtendWebSocketsToKubelet', 'RestartAllContainersOnContainerExits'];
      const patched = await fetch(`${nodes}/n-declared/status`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify({ status: { declaredFeatures: declared } }),
      });
      expect(patched.status).toBe(200);
      const node = (await (await fetch(`${nodes}/n-declared`)).json()) as Any;
      expect(node.status.declaredFeatures).toEqual(declared);
    });
  });
});
