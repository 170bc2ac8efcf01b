import { describe, expect, it } from 'vitest';
import { CodedError } from '../src/errors';

/**
 * Every package's exported error classes carry a `code` in one style, SCREAMING_SNAKE_CASE like
 * Node's own `err.code` (issue #22). The entry points are imported by a computed specifier so the
 * TypeScript project of this package stays free of references to the packages that depend on it;
 * vitest resolves them to their sources.
 */
const ENTRY_POINTS = [
  '@nodeagent/primitives',
  '@nodeagent/primitives/netlink',
  '@nodeagent/cri-client',
  '@nodeagent/cri-client/testing',
  '@nodeagent/informer',
  '@nodeagent/informer/errors',
  '@nodeagent/ipvs',
  '@nodeagent/ipvs/netlink',
  '@nodeagent/kube-proxy',
  '@nodeagent/kube-proxy/runtime',
  '@nodeagent/kube-proxy/nftables',
  '@nodeagent/kube-proxy/iptables',
  '@nodeagent/kube-proxy/userspace',
  '@nodeagent/kubelet',
  '@nodeagent/kubelet/certificates',
  '@nodeagent/kubelet/cgroups',
  '@nodeagent/kubelet/images',
  '@nodeagent/kubelet/logs',
  '@nodeagent/kubelet/server',
  '@nodeagent/kubelet/stats',
  '@nodeagent/netfilter',
  '@nodeagent/netfilter/iptables',
  '@nodeagent/netfilter/nftables',
  '@nodeagent/node-status',
  '@nodeagent/node-status/errors',
  '@nodeagent/probes',
  '@nodeagent/testing/netns',
];

/**
 * Error constructors take (field, value, reason), (errno, name, operation, target), a list of
 * problems, or nothing; the first shape a class accepts gives an instance whose code we read.
 * The first argument of the first shape doubles as a code: a base that takes its code from the
 * caller (CodedError, FieldError, KubeletError, kubelet's SyncStepError whose code is a
 * Kubernetes waiting reason such as `ErrImagePull`) hands it back, and has no code of its own.
 */
const CALLER_CODE = 'CALLER_GIVEN_CODE';
const ARGUMENT_SHAPES: unknown[][] = [
  [CALLER_CODE, 'value', 'reason', 'extra'],
  [[], [], [], [], []],
  [1, 'EPERM', 'operation', 'target'],
  [['argv'], 1, 'stderr', 1, 'line'],
];

/** Classes whose first argument is not a string: CriError takes (rpc, gRPC status number, ...). */
const FIXTURES: Record<string, unknown[]> = {
  CriError: ['ListContainers', 14, 'connection refused', 'unix:///run/containerd/containerd.sock'],
};

type ErrorClass = new (...args: unknown[]) => CodedError;

function isErrorClass(value: unknown): value is ErrorClass {
  return typeof value === 'function' && value.prototype instanceof CodedError;
}

function instantiate(Class: ErrorClass): CodedError | undefined {
  const fixture = FIXTURES[Class.name];
  for (const args of fixture ? [fixture] : ARGUMENT_SHAPES) {
    try {
      return new Class(...args);
    } catch {
      // The next shape may fit this constructor.
    }
  }
  return undefined;
}

async function exportedErrorClasses(): Promise<Map<string, ErrorClass>> {
  const classes = new Map<string, ErrorClass>();
  for (const specifier of ENTRY_POINTS) {
    const module = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      // Abstract bases (NetfilterError) are still constructible at run time; their subclasses matter.
      if (isErrorClass(value)) classes.set(`${specifier}:${name}`, value);
    }
  }
  return classes;
}

// Importing every entry point transforms the sources of the whole workspace: 19 s on a quiet
// machine, past the 60 s default on a saturated one, so this walk's hang guard sits further out.
const WHOLE_WORKSPACE_IMPORT_MS = 300_000;

describe('error codes across the packages', () => {
  it('every exported CodedError class has a SCREAMING_SNAKE_CASE code', {
    timeout: WHOLE_WORKSPACE_IMPORT_MS,
  }, async () => {
    const classes = await exportedErrorClasses();
    // The walk must really reach the packages (a broken import would make the rest vacuous).
    expect(classes.size).toBeGreaterThan(40);
    const codes: Record<string, string> = {};
    const notConstructible: string[] = [];
    for (const [where, Class] of classes) {
      const error = instantiate(Class);
      if (error === undefined) notConstructible.push(where);
      else if (error.code !== CALLER_CODE) codes[where] = error.code;
    }
    expect(notConstructible).toEqual([]);
    // Most classes have a fixed code; the walk must have read them.
    expect(Object.keys(codes).length).toBeGreaterThan(30);
    const wrongStyle = Object.entries(codes).filter(([, code]) => !/^[A-Z][A-Z0-9_]*$/.test(code));
    expect(wrongStyle).toEqual([]);
  });

  it('the bases with a caller-given code pass it through unchanged', () => {
    expect(new CodedError('SOME_CODE', 'm').code).toBe('SOME_CODE');
  });
});
