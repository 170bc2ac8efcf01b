import { type SysctlNamespace, sysctlNamespace, sysctlNameWithDots } from '../cri/sysctl-namespace';
import { InvalidConfigError } from '../errors';
import {
  admitted,
  type PodAdmitAttributes,
  type PodAdmitHandler,
  type PodAdmitResult,
} from './admit-handler';

/** Upstream's admission reason for a pod with a sysctl it may not set. */
export const sysctlForbiddenReason = 'SysctlForbidden';

/** Longest sysctl name or pattern upstream accepts. */
export const sysctlMaxLength = 253;
const segment = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const patternSegment = '([a-z0-9][-_a-z0-9]*)?[a-z0-9*]';
/** Upstream SysctlContainSlashPatternFmt: dot- or slash-separated segments, the last may end in '*'. */
export const sysctlPatternFormat = `(${segment}[\\./])*${patternSegment}`;
const sysctlPattern = new RegExp(`^${sysctlPatternFormat}$`);

/** Go's %q for the names involved here (printable ASCII): the string in double quotes. */
const quoted = (value: string) => JSON.stringify(value);

/**
 * Which sysctls pods may set on this node (upstream patternAllowlist): the safe set plus the
 * admin's allowedUnsafeSysctls, as exact names or prefixes ending in '*'. Every entry must be a
 * sysctl the kernel namespaces: anything else would change the node for every pod.
 */
export class SysctlAllowlist implements PodAdmitHandler {
  private readonly exact = new Map<string, SysctlNamespace>();
  private readonly prefixes = new Map<string, SysctlNamespace>();

  /** Throws InvalidConfigError (field allowedUnsafeSysctls) for a malformed or non-namespaced entry. */
  constructor(patterns: readonly string[]) {
    for (const pattern of patterns) {
      if (pattern.length > sysctlMaxLength || !sysctlPattern.test(pattern)) {
        throw new InvalidConfigError(
          'allowedUnsafeSysctls',
          pattern,
          `sysctl ${quoted(pattern)} must have at most ${sysctlMaxLength} characters and match regex ${sysctlPatternFormat}`,
        );
      }
      const name = sysctlNameWithDots(pattern);
      const glob = name.endsWith('*');
      const key = glob ? name.slice(0, -1) : name;
      const namespace = sysctlNamespace(key);
      if (!namespace)
        throw new InvalidConfigError(
          'allowedUnsafeSysctls',
          pattern,
          `the ${glob ? 'sysctls' : 'sysctl'} ${quoted(name)} are not known to be namespaced`,
        );
      (glob ? this.prefixes : this.exact).set(key, namespace);
    }
  }

  /**
   * Why a pod may not set this sysctl, or undefined when it may. A sysctl of the network or IPC
   * namespace is refused for a pod sharing that namespace with the host: it would change the node.
   */
  check(sysctl: string, hostNetwork: boolean, hostIPC: boolean): string | undefined {
    const name = sysctlNameWithDots(sysctl);
    const namespace =
      this.exact.get(name) ?? [...this.prefixes].find(([prefix]) => name.startsWith(prefix))?.[1];
    if (!namespace) return `${quoted(name)} not allowlisted`;
    if ((namespace === 'ipc' && hostIPC) || (namespace === 'net' && hostNetwork))
      return `${quoted(name)} not allowed with host ${namespace} enabled`;
    return undefined;
  }

  admit({ pod }: PodAdmitAttributes): PodAdmitResult {
    for (const sysctl of pod.spec.securityContext?.sysctls ?? []) {
      const problem = this.check(sysctl.name, pod.spec.hostNetwork === true, pod.spec.hostIPC === true);
      if (problem)
        return { admit: false, reason: sysctlForbiddenReason, message: `forbidden sysctl: ${problem}` };
    }
    return admitted;
  }
}
