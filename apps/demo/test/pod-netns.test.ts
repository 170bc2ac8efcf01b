import { describe, expect, it } from 'vitest';
import { taskPid } from '../src/pod-netns';

const ctrTasksLs = `TASK                                                                PID      STATUS
3f1c0a9e2b7d4c5e8f6a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e    41207    RUNNING
9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b    41311    STOPPED
`;

describe('taskPid', () => {
  it('finds the PID of a running task by container ID', () => {
    expect(taskPid(ctrTasksLs, '3f1c0a9e2b7d4c5e8f6a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e')).toBe(
      41207,
    );
  });

  it('has none for a stopped task, an unknown ID or the header', () => {
    expect(
      taskPid(ctrTasksLs, '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b'),
    ).toBeUndefined();
    expect(taskPid(ctrTasksLs, 'feedface')).toBeUndefined();
    expect(taskPid(ctrTasksLs, 'TASK')).toBeUndefined();
  });
});
