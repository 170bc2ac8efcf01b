import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  encodeMemoryManagerCheckpoint,
  type MemoryCheckpointContent,
  memoryCheckpointChecksum,
  memoryManagerStateFile,
  restoreMemoryManagerCheckpoint,
  writeMemoryManagerCheckpoint,
} from '../src/memorymanager/memory-manager-checkpoint';
import type { MemoryTable, NumaNodeMap } from '../src/memorymanager/memory-state';

/*
 * The expected checksums and texts below were produced by Go, not by this package: a GOPATH-mode
 * program built against Debian's golang-github-davecgh-go-spew-dev declared upstream's struct
 * shapes (package state: MemoryManagerCheckpoint, NUMANodeMap, NUMANodeState, MemoryTable, Block,
 * ContainerMemoryAssignments; v1.ResourceName; checksum.Checksum), printed each checkpoint with
 * spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true,
 * DisablePointerAddresses: true, DisableCapacities: true}.Sprintf("%#v", …), hashed that with
 * hash/fnv New32a (also under the struct name MemoryManagerCheckpointV1), and wrote the file with
 * encoding/json's Marshal; the files with nulls were read with json.Unmarshal first.
 */

const gib = 1024 ** 3;

function table(total: number, systemReserved: number, allocatable: number, reserved: number): MemoryTable {
  return { total, systemReserved, allocatable, reserved, free: allocatable - reserved };
}

/** Two NUMA nodes grouped by cross-NUMA allocations; two pods' containers share the group. */
const crossNuma: MemoryCheckpointContent = {
  machineState: {
    0: {
      numberOfAssignments: 3,
      memoryMap: {
        memory: table(33566027776, gib, 28197318656, 28197318656),
        'hugepages-1Gi': table(4 * gib, 0, 4 * gib, 2 * gib),
      },
      cells: [0, 1],
    },
    1: {
      numberOfAssignments: 3,
      memoryMap: {
        memory: table(33818316800, 0, 29523349504, 5088677888),
        'hugepages-1Gi': table(4 * gib, 0, 4 * gib, 0),
      },
      cells: [0, 1],
    },
  },
  entries: {
    '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d': {
      sidecar: [{ numaAffinity: [0, 1], type: 'memory', size: gib }],
    },
    '0b7f3c52-9d1e-4a6b-8f2c-5e4d3a2b1c0f': {
      app: [
        { numaAffinity: [0, 1], type: 'memory', size: 30 * gib },
        { numaAffinity: [0, 1], type: 'hugepages-1Gi', size: 2 * gib },
      ],
    },
  },
};
const crossNumaJson =
  '{"policyName":"Static","machineState":{"0":{"numberOfAssignments":3,"memoryMap":{"hugepages-1Gi":{"total":4294967296,"systemReserved":0,"allocatable":4294967296,"reserved":2147483648,"free":2147483648},"memory":{"total":33566027776,"systemReserved":1073741824,"allocatable":28197318656,"reserved":28197318656,"free":0}},"cells":[0,1]},"1":{"numberOfAssignments":3,"memoryMap":{"hugepages-1Gi":{"total":4294967296,"systemReserved":0,"allocatable":4294967296,"reserved":0,"free":4294967296},"memory":{"total":33818316800,"systemReserved":0,"allocatable":29523349504,"reserved":5088677888,"free":24434671616}},"cells":[0,1]}},"entries":{"0b7f3c52-9d1e-4a6b-8f2c-5e4d3a2b1c0f":{"app":[{"numaAffinity":[0,1],"type":"memory","size":32212254720},{"numaAffinity":[0,1],"type":"hugepages-1Gi","size":2147483648}]},"9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d":{"sidecar":[{"numaAffinity":[0,1],"type":"memory","size":1073741824}]}},"checksum":1832660714}';

/** The same nodes, each its own group: one pod's two containers on different nodes. */
const singleNuma: MemoryCheckpointContent = {
  machineState: {
    1: {
      numberOfAssignments: 1,
      memoryMap: {
        memory: table(33818316800, 0, 29523349504, 4 * gib),
        'hugepages-1Gi': table(4 * gib, 0, 4 * gib, 0),
      },
      cells: [1],
    },
    0: {
      numberOfAssignments: 2,
      memoryMap: {
        memory: table(33566027776, gib, 28197318656, 2 * gib),
        'hugepages-1Gi': table(4 * gib, 0, 4 * gib, gib),
      },
      cells: [0],
    },
  },
  entries: {
    '3f2e1d0c-4b5a-4978-8a6b-5c4d3e2f1a0b': {
      db: [{ numaAffinity: [1], type: 'memory', size: 4 * gib }],
      app: [
        { numaAffinity: [0], type: 'memory', size: 2 * gib },
        { numaAffinity: [0], type: 'hugepages-1Gi', size: gib },
      ],
    },
  },
};
const singleNumaJson =
  '{"policyName":"Static","machineState":{"0":{"numberOfAssignments":2,"memoryMap":{"hugepages-1Gi":{"total":4294967296,"systemReserved":0,"allocatable":4294967296,"reserved":1073741824,"free":3221225472},"memory":{"total":33566027776,"systemReserved":1073741824,"allocatable":28197318656,"reserved":2147483648,"free":26049835008}},"cells":[0]},"1":{"numberOfAssignments":1,"memoryMap":{"hugepages-1Gi":{"total":4294967296,"systemReserved":0,"allocatable":4294967296,"reserved":0,"free":4294967296},"memory":{"total":33818316800,"systemReserved":0,"allocatable":29523349504,"reserved":4294967296,"free":25228382208}},"cells":[1]}},"entries":{"3f2e1d0c-4b5a-4978-8a6b-5c4d3e2f1a0b":{"app":[{"numaAffinity":[0],"type":"memory","size":2147483648},{"numaAffinity":[0],"type":"hugepages-1Gi","size":1073741824}],"db":[{"numaAffinity":[1],"type":"memory","size":4294967296}]}},"checksum":4215526623}';

/** Eleven nodes and no assignments: json.Marshal sorts int keys as strings ("10" before "2"). */
const elevenNodes: MemoryCheckpointContent = {
  machineState: Object.fromEntries(
    Array.from({ length: 11 }, (_, id) => [
      id,
      { numberOfAssignments: 0, memoryMap: { memory: table(8 * gib, 0, 8 * gib, 0) }, cells: [id] },
    ]),
  ) as NumaNodeMap,
  entries: {},
};
const elevenNodesJson =
  '{"policyName":"Static","machineState":{"0":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[0]},"1":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[1]},"10":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[10]},"2":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[2]},"3":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[3]},"4":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[4]},"5":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[5]},"6":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[6]},"7":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[7]},"8":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[8]},"9":{"numberOfAssignments":0,"memoryMap":{"memory":{"total":8589934592,"systemReserved":0,"allocatable":8589934592,"reserved":0,"free":8589934592}},"cells":[9]}},"checksum":757962095}';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), `na-memstate-${process.pid}-`));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function refusal(problem: string): string {
  const path = join(dir, memoryManagerStateFile);
  return `start memory manager error: could not restore state from checkpoint: ${problem}, please drain this node and delete the memory manager checkpoint file "${path}" before restarting Kubelet`;
}

describe('memory manager checkpoint checksum', () => {
  it("is Go's, under the legacy struct name by default and under MemoryManagerCheckpointV1 on request", () => {
    expect(memoryCheckpointChecksum('Static', crossNuma)).toBe(1832660714);
    expect(memoryCheckpointChecksum('Static', crossNuma, 'state.MemoryManagerCheckpointV1')).toBe(1764578287);
    expect(memoryCheckpointChecksum('Static', singleNuma)).toBe(4215526623);
    expect(memoryCheckpointChecksum('Static', singleNuma, 'state.MemoryManagerCheckpointV1')).toBe(
      3506792560,
    );
    expect(memoryCheckpointChecksum('Static', elevenNodes)).toBe(757962095);
    expect(memoryCheckpointChecksum('Static', elevenNodes, 'state.MemoryManagerCheckpointV1')).toBe(
      2870398998,
    );
    // The None policy's file, as recorded on an upstream node with the default policy.
    expect(memoryCheckpointChecksum('None')).toBe(4236770233);
    expect(memoryCheckpointChecksum('None', undefined, 'state.MemoryManagerCheckpointV1')).toBe(467305784);
  });
});

describe('memory manager checkpoint text', () => {
  it('is what json.Marshal writes: struct field order, sorted keys, empty entries left out', () => {
    expect(encodeMemoryManagerCheckpoint('Static', crossNuma)).toBe(crossNumaJson);
    expect(encodeMemoryManagerCheckpoint('Static', singleNuma)).toBe(singleNumaJson);
    expect(encodeMemoryManagerCheckpoint('Static', elevenNodes)).toBe(elevenNodesJson);
    expect(encodeMemoryManagerCheckpoint('None')).toBe(
      '{"policyName":"None","machineState":{},"checksum":4236770233}',
    );
  });
});

describe('memory_manager_state', () => {
  it('is written with policy None as upstream writes it, mode 0600, and kept on the next start', async () => {
    restoreMemoryManagerCheckpoint(dir, 'None');
    const path = join(dir, memoryManagerStateFile);
    expect(await readFile(path, 'utf8')).toBe(
      '{"policyName":"None","machineState":{},"checksum":4236770233}',
    );
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(() => restoreMemoryManagerCheckpoint(dir, 'None')).not.toThrow();
  });

  it('is written fresh for the Static policy when missing, with an empty state returned', async () => {
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual({ machineState: {}, entries: {} });
    expect(await readFile(join(dir, memoryManagerStateFile), 'utf8')).toBe(
      '{"policyName":"Static","machineState":{},"checksum":3940083781}',
    );
  });

  it('restores what it wrote', async () => {
    writeMemoryManagerCheckpoint(dir, 'Static', crossNuma);
    expect(await readFile(join(dir, memoryManagerStateFile), 'utf8')).toBe(crossNumaJson);
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual(crossNuma);
    writeMemoryManagerCheckpoint(dir, 'Static', elevenNodes);
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual(elevenNodes);
  });

  it('accepts a checksum under either struct name, and none at all (the old file backend)', async () => {
    const path = join(dir, memoryManagerStateFile);
    await writeFile(path, singleNumaJson);
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual(singleNuma);
    await writeFile(path, singleNumaJson.replace('"checksum":4215526623', '"checksum":3506792560'));
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual(singleNuma);
    await writeFile(path, singleNumaJson.replace('"checksum":4215526623', '"checksum":0'));
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual(singleNuma);
  });

  it('checks the checksum of a file with nulls as Go reads it (nil slices and maps)', async () => {
    // Both texts were given to json.Unmarshal and the checksum taken of what it left (`<nil>` in
    // spew's print where the text has null); the second is hand-written, as json.Marshal would
    // leave its null entries out.
    const path = join(dir, memoryManagerStateFile);
    await writeFile(
      path,
      '{"policyName":"Static","machineState":{"0":{"numberOfAssignments":1,"memoryMap":{"memory":{"total":1,"systemReserved":0,"allocatable":1,"reserved":1,"free":0}},"cells":null}},"entries":{"p":{"c":null,"d":[{"numaAffinity":null,"type":"memory","size":1}]}},"checksum":173541453}',
    );
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual({
      machineState: { 0: { numberOfAssignments: 1, memoryMap: { memory: table(1, 0, 1, 1) }, cells: [] } },
      entries: { p: { c: [], d: [{ numaAffinity: [], type: 'memory', size: 1 }] } },
    });
    await writeFile(
      path,
      '{"policyName":"Static","machineState":{"0":{"numberOfAssignments":0,"memoryMap":null,"cells":[]}},"entries":null,"checksum":137658952}',
    );
    expect(restoreMemoryManagerCheckpoint(dir, 'Static')).toEqual({
      machineState: { 0: { numberOfAssignments: 0, memoryMap: {}, cells: [] } },
      entries: {},
    });
  });

  it("refuses a checkpoint whose checksum does not match with upstream's text", async () => {
    await writeFile(
      join(dir, memoryManagerStateFile),
      crossNumaJson.replace('"reserved":5088677888', '"reserved":5088677889'),
    );
    expect(() => restoreMemoryManagerCheckpoint(dir, 'Static')).toThrow(refusal('checkpoint is corrupted'));
    await writeFile(
      join(dir, memoryManagerStateFile),
      '{"policyName":"None","machineState":{},"checksum":4236770233}'.replace('4236770233', '4236770234'),
    );
    expect(() => restoreMemoryManagerCheckpoint(dir, 'None')).toThrow(refusal('checkpoint is corrupted'));
  });

  it("refuses a checkpoint written under another policy with upstream's text", async () => {
    await writeFile(join(dir, memoryManagerStateFile), singleNumaJson);
    expect(() => restoreMemoryManagerCheckpoint(dir, 'None')).toThrow(
      refusal('[memorymanager] configured policy "None" differs from state checkpoint policy "Static"'),
    );
  });

  it("refuses a file that is not a checkpoint with the decoder's reason", async () => {
    const path = join(dir, memoryManagerStateFile);
    await writeFile(path, '');
    expect(() => restoreMemoryManagerCheckpoint(dir, 'None')).toThrow(
      refusal('unexpected end of JSON input'),
    );
    await writeFile(path, '{"policyName":"Static","machineState":{"0":{"cells":"0"}},"checksum":0}');
    expect(() => restoreMemoryManagerCheckpoint(dir, 'Static')).toThrow(
      refusal('json: cannot unmarshal string into Go value of type []int'),
    );
    // A null node is a nil pointer no kubelet writes (go-spew would print it `<nil>`).
    await writeFile(path, '{"policyName":"Static","machineState":{"0":null},"checksum":0}');
    expect(() => restoreMemoryManagerCheckpoint(dir, 'Static')).toThrow(refusal('checkpoint is corrupted'));
  });
});
