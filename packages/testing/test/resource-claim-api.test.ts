import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../src/index';

// biome-ignore lint/suspicious/noExplicitAny: assertions dig into arbitrary wire JSON
type Wire = any;

const R = '/apis/resource.k8s.io/v1';

describe('resource.k8s.io/v1 on the in-process API server', { timeout: 60_000 }, () => {
  let server: ApiServer;
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Wire }> {
    const init: RequestInit = { method, headers: { 'Content-Type': 'application/json' } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(server.url + path, init);
    return { status: res.status, body: await res.json() };
  }
  const claim = (name: string, requests: Wire[]) => ({
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { name },
    spec: { devices: { requests } },
  });
  const slice = (name: string, spec: Wire) => ({
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name },
    spec: { driver: 'test-driver.cdi.k8s.io', pool: { name: 'p', resourceSliceCount: 1 }, ...spec },
  });

  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('defaults a request to ExactCount with count 1 and its tolerations to Equal, as v1.36', async () => {
    const r = await call(
      'POST',
      `${R}/namespaces/default/resourceclaims`,
      claim('one', [
        {
          name: 'dev',
          exactly: { deviceClassName: 'gpu.example.com', tolerations: [{ key: 'k', value: 'v' }] },
        },
        { name: 'alt', firstAvailable: [{ name: 'a', deviceClassName: 'gpu.example.com' }] },
        { name: 'all', exactly: { deviceClassName: 'gpu.example.com', allocationMode: 'All' } },
      ]),
    );
    expect(r.status).toBe(201);
    const [dev, alt, all] = r.body.spec.devices.requests;
    expect(dev.exactly).toMatchObject({ allocationMode: 'ExactCount', count: 1 });
    expect(dev.exactly.tolerations[0].operator).toBe('Equal');
    expect(alt.firstAvailable[0]).toMatchObject({ allocationMode: 'ExactCount', count: 1 });
    expect(all.exactly.allocationMode).toBe('All');
    expect(all.exactly.count).toBeUndefined();
  });

  it('refuses what v1.36 validation refuses, naming each field', async () => {
    const r = await call(
      'POST',
      `${R}/namespaces/default/resourceclaims`,
      claim('bad', [
        { name: 'Dev', exactly: {} },
        { name: 'x', exactly: { deviceClassName: 'c', count: -1 } },
        {
          name: 'x',
          exactly: { deviceClassName: 'c', selectors: [{ cel: { expression: 'device.driver ==' } }] },
        },
        { name: 'y' },
        { name: 'z', exactly: { deviceClassName: 'c', allocationMode: 'All', count: 2 } },
      ]),
    );
    expect(r.status).toBe(422);
    expect(r.body.reason).toBe('Invalid');
    const fields = r.body.details.causes.map((c: Wire) => `${c.field}: ${c.reason}`);
    expect(fields).toEqual(
      expect.arrayContaining([
        'spec.devices.requests[0].name: FieldValueInvalid',
        'spec.devices.requests[0].exactly.deviceClassName: FieldValueRequired',
        'spec.devices.requests[1].exactly.count: FieldValueInvalid',
        'spec.devices.requests[2].name: FieldValueDuplicate',
        'spec.devices.requests[2].exactly.selectors[0].cel.expression: FieldValueInvalid',
        'spec.devices.requests[3]: FieldValueRequired',
        'spec.devices.requests[4].exactly.count: FieldValueInvalid',
      ]),
    );
    expect(r.body.message).toContain('must be greater than zero');
    expect(r.body.message).toContain("must not be specified when allocationMode is 'All'");
    expect(r.body.message).toContain('exactly one of `exactly` or `firstAvailable` is required');
    expect(await call('GET', `${R}/namespaces/default/resourceclaims/bad`)).toMatchObject({ status: 404 });
  });

  it("keeps a claim's spec immutable and its allocation fixed once set; reservedFor needs an allocation", async () => {
    const created = (
      await call(
        'POST',
        `${R}/namespaces/default/resourceclaims`,
        claim('fixed', [{ name: 'dev', exactly: { deviceClassName: 'c' } }]),
      )
    ).body;
    const changed = await call('PUT', `${R}/namespaces/default/resourceclaims/fixed`, {
      ...created,
      spec: { devices: { requests: [{ name: 'other', exactly: { deviceClassName: 'c' } }] } },
    });
    expect(changed.status).toBe(422);
    expect(changed.body.details.causes[0]).toMatchObject({
      field: 'spec',
      message: expect.stringContaining('field is immutable'),
    });

    const reservedOnly = await call('PUT', `${R}/namespaces/default/resourceclaims/fixed/status`, {
      ...created,
      status: { reservedFor: [{ resource: 'pods', name: 'p', uid: 'u' }] },
    });
    expect(reservedOnly.status).toBe(422);
    expect(reservedOnly.body.details.causes[0]).toMatchObject({
      field: 'status.reservedFor',
      reason: 'FieldValueForbidden',
    });

    const result = { request: 'dev', driver: 'test-driver.cdi.k8s.io', pool: 'n1', device: 'device-00' };
    const allocated = await call('PUT', `${R}/namespaces/default/resourceclaims/fixed/status`, {
      ...created,
      status: { allocation: { devices: { results: [result] } } },
    });
    expect(allocated.status).toBe(200);
    const moved = await call('PUT', `${R}/namespaces/default/resourceclaims/fixed/status`, {
      ...allocated.body,
      status: { allocation: { devices: { results: [{ ...result, device: 'device-01' }] } } },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.details.causes[0].field).toBe('status.allocation');
    const unknownRequest = await call('POST', `${R}/namespaces/default/resourceclaims`, {
      ...claim('ref', [{ name: 'dev', exactly: { deviceClassName: 'c' } }]),
      status: {},
    });
    expect(unknownRequest.status).toBe(201);
  });

  it("validates a pod's resourceClaims and its containers' references to them, as pkg/apis/core/validation", async () => {
    const pod = (name: string, resourceClaims: Wire[], claims: Wire[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'i:1', resources: { claims } }], resourceClaims },
    });
    const bad = await call(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod(
        'p',
        [
          { name: 'gpu' },
          { name: 'gpu', resourceClaimName: 'x' },
          { name: 'Bad', resourceClaimName: 'a', resourceClaimTemplateName: 'b' },
        ],
        [{ name: 'gpu' }, { name: 'gpu' }, { name: 'nic' }],
      ),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resourceClaims[0]',
        message:
          'Invalid value: core.PodResourceClaim{Name:"gpu", ResourceClaimName:(*string)(nil), ResourceClaimTemplateName:(*string)(nil)}: must specify one of: `resourceClaimName`, `resourceClaimTemplateName`',
      },
      {
        reason: 'FieldValueDuplicate',
        field: 'spec.resourceClaims[1].name',
        message: 'Duplicate value: "gpu"',
      },
      expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.resourceClaims[2].name' }),
      expect.objectContaining({
        field: 'spec.resourceClaims[2]',
        message: expect.stringContaining(
          'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified',
        ),
      }),
      {
        reason: 'FieldValueDuplicate',
        field: 'spec.containers[0].resources.claims[1]',
        message: 'Duplicate value: "gpu"',
      },
      {
        reason: 'FieldValueNotFound',
        field: 'spec.containers[0].resources.claims[2]',
        message: 'Not found: "nic": must be one of the names in pod.spec.resourceClaims: Bad, gpu',
      },
    ]);
    const long = await call(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('a'.repeat(250), [{ name: 'gpu', resourceClaimTemplateName: 't' }], []),
    );
    expect(long.body.details.causes[0].message).toContain(
      'final ResourceClaim name: must be no more than 253 characters',
    );
    const good = await call(
      'POST',
      '/api/v1/namespaces/default/pods',
      pod('ok', [{ name: 'gpu', resourceClaimTemplateName: 't' }], [{ name: 'gpu' }]),
    );
    expect(good.status).toBe(201);
  });

  it('validates a ResourceSlice: driver, pool, exactly one node scope, unique device names', async () => {
    const none = await call('POST', `${R}/resourceslices`, slice('s0', { devices: [{ name: 'device-00' }] }));
    expect(none.status).toBe(422);
    expect(none.body.message).toContain(
      'exactly one of `nodeName`, `nodeSelector`, `allNodes`, `perDeviceNodeSelection` is required',
    );
    const two = await call(
      'POST',
      `${R}/resourceslices`,
      slice('s1', { nodeName: 'n1', allNodes: true, devices: [{ name: 'd' }, { name: 'd' }] }),
    );
    expect(two.status).toBe(422);
    expect(two.body.details.causes.map((c: Wire) => c.field)).toEqual(['spec', 'spec.devices[1].name']);
    const noPool = await call('POST', `${R}/resourceslices`, {
      ...slice('s2', { nodeName: 'n1' }),
      spec: { driver: 'Bad_Driver', nodeName: 'n1', pool: {} },
    });
    expect(noPool.body.details.causes.map((c: Wire) => c.field)).toEqual([
      'spec.driver',
      'spec.pool.name',
      'spec.pool.resourceSliceCount',
    ]);
  });

  it('selects ResourceSlices by spec.nodeName, spec.driver and spec.pool.name, and refuses other field labels', async () => {
    for (const [name, node, driver] of [
      ['a', 'n1', 'test-driver.cdi.k8s.io'],
      ['b', 'n2', 'test-driver.cdi.k8s.io'],
      ['c', 'n1', 'gpu.example.com'],
    ] as const) {
      const r = await call(
        'POST',
        `${R}/resourceslices`,
        slice(name, { nodeName: node, driver, pool: { name: `${node}-pool`, resourceSliceCount: 1 } }),
      );
      expect(r.status).toBe(201);
    }
    const names = async (selector: string) =>
      (await call('GET', `${R}/resourceslices?fieldSelector=${encodeURIComponent(selector)}`)).body.items.map(
        (s: Wire) => s.metadata.name,
      );
    expect(await names('spec.nodeName=n1')).toEqual(['a', 'c']);
    expect(await names('spec.nodeName=n1,spec.driver=gpu.example.com')).toEqual(['c']);
    expect(await names('spec.pool.name=n2-pool')).toEqual(['b']);
    const bad = await call('GET', `${R}/resourceslices?fieldSelector=spec.devices=x`);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('field label not supported: spec.devices');
    const moved = await call('PUT', `${R}/resourceslices/a`, {
      ...(await call('GET', `${R}/resourceslices/a`)).body,
      spec: {
        driver: 'test-driver.cdi.k8s.io',
        nodeName: 'n9',
        pool: { name: 'n1-pool', resourceSliceCount: 1 },
      },
    });
    expect(moved.status).toBe(422);
    expect(moved.body.details.causes[0].field).toBe('spec.nodeName');
  });

  it('refuses a DeviceClass whose CEL selector does not compile or is not a bool, naming the expression', async () => {
    const cls = (name: string, expression: string) => ({
      apiVersion: 'resource.k8s.io/v1',
      kind: 'DeviceClass',
      metadata: { name },
      spec: { selectors: [{ cel: { expression } }] },
    });
    expect(
      (await call('POST', `${R}/deviceclasses`, cls('ok.example.com', 'device.driver == "gpu.example.com"')))
        .status,
    ).toBe(201);
    const notBool = await call('POST', `${R}/deviceclasses`, cls('int.example.com', '1 + 2'));
    expect(notBool.status).toBe(422);
    expect(notBool.body.details.causes[0]).toMatchObject({ field: 'spec.selectors[0].cel.expression' });
    expect(notBool.body.details.causes[0].message).toContain('must evaluate to bool');
    const unknownFn = await call(
      'POST',
      `${R}/deviceclasses`,
      cls('fn.example.com', 'nosuch(device.driver)'),
    );
    expect(unknownFn.status).toBe(422);
    expect(unknownFn.body.details.causes[0].message).toContain('compilation failed');
  });
});
