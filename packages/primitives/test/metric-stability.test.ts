import { describe, expect, it } from 'vitest';
import {
  annotateExpositionHelp,
  annotateRegistryHelp,
  type MetricStabilityTable,
  stabilityHelp,
} from '../src/metric-stability';

// component-base metrics: opts.go annotateStabilityLevel writes "[LEVEL] help"; markDeprecated
// runs first, so counter_test.go expects "[ALPHA] (Deprecated since 1.15.0) counter help".
describe('stabilityHelp', () => {
  it('writes the level, and the deprecation after it, as component-base does', () => {
    expect(stabilityHelp('Cumulative number of pods started', 'ALPHA')).toBe(
      '[ALPHA] Cumulative number of pods started',
    );
    expect(stabilityHelp('counter help', { level: 'ALPHA', deprecatedVersion: '1.15.0' })).toBe(
      '[ALPHA] (Deprecated since 1.15.0) counter help',
    );
  });
});

const table: MetricStabilityTable = {
  a_total: 'ALPHA',
  b_seconds: 'BETA',
  old_total: { level: 'STABLE', deprecatedVersion: '1.29.0' },
};

const text = [
  '# HELP a_total Counts a.',
  '# TYPE a_total counter',
  'a_total 1',
  '',
  '# HELP b_seconds Takes b.',
  '# TYPE b_seconds gauge',
  'b_seconds 2',
  '',
  '# HELP old_total Old.',
  '# TYPE old_total counter',
  '',
  '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
  '# TYPE process_cpu_seconds_total counter',
  '',
].join('\n');

describe('annotateExpositionHelp', () => {
  it('annotates the HELP of the metrics the table names and leaves the rest', () => {
    const out = annotateExpositionHelp(text, table).split('\n');
    expect(out).toContain('# HELP a_total [ALPHA] Counts a.');
    expect(out).toContain('# HELP b_seconds [BETA] Takes b.');
    expect(out).toContain('# HELP old_total [STABLE] (Deprecated since 1.29.0) Old.');
    expect(out).toContain(
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
    );
    expect(out.filter((line) => !line.startsWith('# HELP '))).toEqual(
      text.split('\n').filter((line) => !line.startsWith('# HELP ')),
    );
  });

  it('is a no-op the second time, and on a name that only starts like a listed one', () => {
    const once = annotateExpositionHelp(text, table);
    expect(annotateExpositionHelp(once, table)).toBe(once);
    expect(annotateExpositionHelp('# HELP a_total_extra X\n', table)).toBe('# HELP a_total_extra X\n');
    expect(annotateExpositionHelp('# HELP constructor X\n', table)).toBe('# HELP constructor X\n');
  });
});

describe('annotateRegistryHelp', () => {
  it("annotates a registry's whole text and one metric's text", async () => {
    const registry = {
      async metrics() {
        return text;
      },
      async getSingleMetricAsString(name: string) {
        return text
          .split('\n\n')
          .find((block) => block.startsWith(`# HELP ${name} `))!
          .concat('\n');
      },
    };
    expect(annotateRegistryHelp(registry, table)).toBe(registry);
    expect(await registry.metrics()).toContain('# HELP a_total [ALPHA] Counts a.\n');
    expect(await registry.getSingleMetricAsString('b_seconds')).toBe(
      '# HELP b_seconds [BETA] Takes b.\n# TYPE b_seconds gauge\nb_seconds 2\n',
    );
  });
});
