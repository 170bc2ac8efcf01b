import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { admissionRejectionLabel, recordAdmissionRejection } from '../src/admission/admission-rejections';

describe("kubelet_admission_rejections_total's reason label (upstream's recordAdmissionRejection)", () => {
  it('keeps the reasons upstream counts by name', () => {
    for (const reason of [
      'OutOfcpu',
      'OutOfpods',
      'Evicted',
      'NodeShutdown',
      'TopologyAffinityError',
      'SysctlForbidden',
      'PodOSNotSupported',
      'UnexpectedAdmissionError',
      'VolumeAttachmentLimitExceeded',
    ])
      expect(admissionRejectionLabel(reason)).toBe(reason);
  });

  it('files an extended resource under OutOfExtendedResources and anything else under Other', () => {
    expect(admissionRejectionLabel('OutOfexample.com/gpu')).toBe('OutOfExtendedResources');
    expect(admissionRejectionLabel('NodeAffinity')).toBe('Other');
    // Upstream lists the taint predicate's message, not its reason: a taint refusal is Other.
    expect(admissionRejectionLabel('TaintToleration')).toBe('Other');
  });

  it('counts each refusal once under its label', async () => {
    const registry = new Registry();
    const counter = new Counter({
      name: 'kubelet_admission_rejections_total',
      help: 'Cumulative number pod admission rejections by the Kubelet.',
      labelNames: ['reason'],
      registers: [registry],
    });
    recordAdmissionRejection(counter, 'OutOfmemory');
    recordAdmissionRejection(counter, 'NodePorts');
    recordAdmissionRejection(counter, 'NodeName');
    const text = await registry.metrics();
    expect(text).toContain('kubelet_admission_rejections_total{reason="OutOfmemory"} 1');
    expect(text).toContain('kubelet_admission_rejections_total{reason="Other"} 2');
  });
});
