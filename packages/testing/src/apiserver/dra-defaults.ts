import type { KubeObject } from './kube-object';

type Obj = Record<string, unknown>;

/** resource.k8s.io/v1's generated defaulters: a request's mode and count, tolerations' operator. */
function defaultRequest(req: Obj): void {
  // SetDefaults_ExactDeviceRequest and SetDefaults_DeviceSubRequest.
  req.allocationMode ||= 'ExactCount';
  if (req.allocationMode === 'ExactCount' && !req.count) req.count = 1;
  defaultTolerations(req.tolerations);
}

function defaultTolerations(tolerations: unknown): void {
  if (!Array.isArray(tolerations)) return;
  for (const t of tolerations as Obj[]) if (t && typeof t === 'object') t.operator ||= 'Equal';
}

/** The requests of a ResourceClaimSpec (`spec` of a claim, `spec.spec` of a template). */
function defaultClaimSpec(spec: Obj | undefined): void {
  const requests = (spec?.devices as Obj | undefined)?.requests;
  if (!Array.isArray(requests)) return;
  for (const r of requests as Obj[]) {
    if (!r || typeof r !== 'object') continue;
    if (r.exactly && typeof r.exactly === 'object') defaultRequest(r.exactly as Obj);
    if (Array.isArray(r.firstAvailable))
      for (const sub of r.firstAvailable as Obj[]) if (sub && typeof sub === 'object') defaultRequest(sub);
  }
}

/** RFC 3339 with second precision, as metav1.Time serializes. */
function rfc3339(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * Defaults of the resource.k8s.io/v1 kinds (pkg/apis/resource/v1/defaults.go and the generated
 * defaulters): requests get allocationMode ExactCount and count 1, tolerations operator Equal,
 * allocation results' tolerations too, and device taints a timeAdded.
 */
export function defaultDraObject(obj: KubeObject, now: () => Date = () => new Date()): void {
  switch (obj.kind) {
    case 'ResourceClaim': {
      defaultClaimSpec(obj.spec as Obj | undefined);
      const results = (
        ((obj.status as Obj | undefined)?.allocation as Obj | undefined)?.devices as Obj | undefined
      )?.results;
      if (Array.isArray(results)) for (const r of results as Obj[]) defaultTolerations(r?.tolerations);
      break;
    }
    case 'ResourceClaimTemplate':
      defaultClaimSpec((obj.spec as Obj | undefined)?.spec as Obj | undefined);
      break;
    case 'ResourceSlice': {
      const devices = (obj.spec as Obj | undefined)?.devices;
      if (!Array.isArray(devices)) break;
      for (const d of devices as Obj[])
        if (Array.isArray(d?.taints))
          for (const t of d.taints as Obj[]) if (t && typeof t === 'object') t.timeAdded ??= rfc3339(now());
      break;
    }
  }
}
