import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { goDumpForHash } from '../src/cpumanager/checkpoint-checksum';
import {
  CpuManagerCheckpoint,
  cpuCheckpointChecksum,
  encodeCpuManagerCheckpoint,
} from '../src/cpumanager/cpu-manager-state';
import { CpuSet } from '../src/cpumanager/cpu-set';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-cpustate-${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkpoint checksum', () => {
  it("prints the struct as upstream's spew config does for hashing", () => {
    // Derived from go-spew's formatter with %#v: a pointer prints its type, each field its Go type
    // in parentheses, strings bare, map keys and values without types, keys sorted.
    expect(
      goDumpForHash('state.CPUManagerCheckpoint', [
        { name: 'PolicyName', goType: 'string', value: 'static' },
        { name: 'DefaultCPUSet', goType: 'string', value: '0,3' },
        {
          name: 'Entries',
          goType: 'map[string]map[string]string',
          value: { pb: { c: '2' }, pa: { z: '1', a: '4' } },
        },
        { name: 'Checksum', goType: 'checksum.Checksum', value: 0 },
      ]),
    ).toBe(
      '(*state.CPUManagerCheckpoint){PolicyName:(string)static DefaultCPUSet:(string)0,3 Entries:(map[string]map[string]string)map[pa:map[a:4 z:1] pb:map[c:2]] Checksum:(checksum.Checksum)0}',
    );
  });

  it('gives the checksums upstream kubelets wrote (none policy; static with assignments)', () => {
    // The file every default node has, and two static-policy files recorded from real nodes.
    expect(cpuCheckpointChecksum('none', '', {})).toBe(1353318690);
    expect(
      cpuCheckpointChecksum('static', '0,2-12,14-23', {
        '235148fe-393f-47a8-a17d-bd55bc1a836b': { 'cgroup1-0': '1,13' },
      }),
    ).toBe(1552716370);
    expect(
      cpuCheckpointChecksum('static', '0,4-8,12-15', {
        '088fe178-cec9-4eb9-ba3c-cf45cba46371': { 'qos-demo-ctr': '1,9' },
        '681eca58-a216-4ec4-a57b-941cad3c4e0f': { 'qos-demo-ctr': '2-3,10-11' },
      }),
    ).toBe(2993692383);
  });
});

describe('cpu_manager_state', () => {
  it('is written at start with policy none exactly as upstream writes it, mode 0600', async () => {
    const state = new CpuManagerCheckpoint(dir).restore('none');
    expect(state.defaultCpuSet.isEmpty()).toBe(true);
    const path = join(dir, 'cpu_manager_state');
    expect(await readFile(path, 'utf8')).toBe(
      '{"policyName":"none","defaultCpuSet":"","checksum":1353318690}',
    );
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('writes entries sorted, as json.Marshal does, and reads them back', () => {
    const assignments = new Map([
      ['681eca58-a216-4ec4-a57b-941cad3c4e0f', new Map([['qos-demo-ctr', CpuSet.parse('2-3,10-11')]])],
      ['088fe178-cec9-4eb9-ba3c-cf45cba46371', new Map([['qos-demo-ctr', new CpuSet([9, 1])]])],
    ]);
    const text = encodeCpuManagerCheckpoint({
      policyName: 'static',
      defaultCpuSet: CpuSet.parse('0,4-8,12-15'),
      assignments,
    });
    expect(text).toBe(
      '{"policyName":"static","defaultCpuSet":"0,4-8,12-15","entries":{"088fe178-cec9-4eb9-ba3c-cf45cba46371":{"qos-demo-ctr":"1,9"},"681eca58-a216-4ec4-a57b-941cad3c4e0f":{"qos-demo-ctr":"2-3,10-11"}},"checksum":2993692383}',
    );
  });

  it('restores a checkpoint an upstream kubelet wrote', async () => {
    await writeFile(
      join(dir, 'cpu_manager_state'),
      '{"policyName":"static","defaultCpuSet":"0,2-12,14-23","entries":{"235148fe-393f-47a8-a17d-bd55bc1a836b":{"cgroup1-0":"1,13"}},"checksum":1552716370}',
    );
    const state = new CpuManagerCheckpoint(dir).restore('static');
    expect(state.defaultCpuSet.toString()).toBe('0,2-12,14-23');
    expect(state.assignments.get('235148fe-393f-47a8-a17d-bd55bc1a836b')?.get('cgroup1-0')?.toString()).toBe(
      '1,13',
    );
  });

  it("refuses the start when the checkpoint's policy differs, naming the file to delete", async () => {
    new CpuManagerCheckpoint(dir).restore('none');
    const path = join(dir, 'cpu_manager_state');
    expect(() => new CpuManagerCheckpoint(dir).restore('static')).toThrow(
      `start cpu manager error: could not restore state from checkpoint: configured policy "static" differs from state checkpoint policy "none", please drain this node and delete the CPU manager checkpoint file "${path}" before restarting Kubelet`,
    );
  });

  it('refuses a checkpoint whose checksum does not match, and a set that does not parse', async () => {
    const path = join(dir, 'cpu_manager_state');
    await writeFile(path, '{"policyName":"none","defaultCpuSet":"","checksum":1353318691}');
    expect(() => new CpuManagerCheckpoint(dir).restore('none')).toThrow(
      'could not restore state from checkpoint: checkpoint is corrupted, please drain',
    );
    await writeFile(path, '{"policyName":"static","defaultCpuSet":"3-1","checksum":0}');
    expect(() => new CpuManagerCheckpoint(dir).restore('static')).toThrow(
      'could not parse default cpu set "3-1": invalid range "3-1" (3 > 1)',
    );
  });
});
