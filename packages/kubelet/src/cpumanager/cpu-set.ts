import { cpuListProblem } from '../config/cpu-list';

/**
 * A set of logical CPU ids (k8s.io/utils' cpuset.CPUSet): immutable, printed as the Linux CPU
 * list the kernel's cpuset.cpus and upstream's checkpoint use ("0-2,5").
 */
export class CpuSet {
  private readonly ids: readonly number[];

  constructor(ids: Iterable<number> = []) {
    this.ids = [...new Set(ids)].sort((a, b) => a - b);
  }

  /** Upstream cpuset.Parse: "" is the empty set; a malformed list throws with upstream's reason. */
  static parse(text: string): CpuSet {
    const problem = cpuListProblem(text);
    if (problem) throw new Error(problem);
    if (text === '') return new CpuSet();
    const ids: number[] = [];
    for (const part of text.split(',')) {
      const [first = 0, last = first] = part.split('-').map(Number);
      for (let id = first; id <= last; id++) ids.push(id);
    }
    return new CpuSet(ids);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Whether the set holds no CPU. */
  isEmpty(): boolean {
    return this.ids.length === 0;
  }

  /** Whether CPU `id` is in the set. */
  has(id: number): boolean {
    return this.ids.includes(id);
  }

  /** The ids in ascending order. */
  list(): readonly number[] {
    return this.ids;
  }

  /** The CPUs in this set or any of `others`. */
  union(...others: CpuSet[]): CpuSet {
    return new CpuSet([...this.ids, ...others.flatMap((other) => other.ids)]);
  }

  /** The CPUs in both sets. */
  intersection(other: CpuSet): CpuSet {
    return new CpuSet(this.ids.filter((id) => other.has(id)));
  }

  /** The CPUs in this set and not in `other`. */
  difference(other: CpuSet): CpuSet {
    return new CpuSet(this.ids.filter((id) => !other.has(id)));
  }

  /** Whether both sets hold the same CPUs. */
  equals(other: CpuSet): boolean {
    return this.size === other.size && this.ids.every((id) => other.has(id));
  }

  /** Whether every CPU of this set is in `other`. */
  isSubsetOf(other: CpuSet): boolean {
    return this.ids.every((id) => other.has(id));
  }

  /** Upstream CPUSet.String: ascending runs, a run of two or more as "a-b", joined by commas. */
  toString(): string {
    const runs: string[] = [];
    let start = 0;
    for (let i = 1; i <= this.ids.length; i++) {
      if (i < this.ids.length && this.ids[i] === this.ids[i - 1]! + 1) continue;
      const [first, last] = [this.ids[start], this.ids[i - 1]];
      runs.push(first === last ? String(first) : `${first}-${last}`);
      start = i;
    }
    return runs.join(',');
  }
}
