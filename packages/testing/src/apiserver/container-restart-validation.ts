import type { StatusCause } from './api-error';
import { forbiddenCause, notSupportedCause, requiredCause, tooManyCause } from './field-errors';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Container-level restartPolicy values once ContainerRestartRules is on (beta, on in v1.36). */
const CONTAINER_RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
/** Rule actions: Restart, and RestartAllContainers (RestartAllContainersOnContainerExits, on in v1.36). */
const RESTART_RULE_ACTIONS = ['Restart', 'RestartAllContainers'];
const EXIT_CODE_OPERATORS = ['In', 'NotIn'];
/** Upstream's caps: 20 rules per container, 255 exit codes per rule. */
const MAX_RESTART_RULES = 20;
const MAX_EXIT_CODE_VALUES = 255;

/**
 * validateContainerRestartPolicy, for regular containers and (ContainerRestartRules and
 * RestartAllContainers on) init containers alike, sidecars included: a restartPolicy among Always/Never/OnFailure (required once
 * rules are given), at most 20 rules, each with a known action and an exitCodes condition whose
 * operator is In or NotIn and that lists at most 255 values. Upstream checks neither duplicate
 * nor negative exit codes.
 */
export function containerRestartCauses(container: Obj, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const policy = container.restartPolicy;
  const rules = Array.isArray(container.restartPolicyRules) ? container.restartPolicyRules : [];
  if (policy === undefined || policy === null) {
    if (rules.length === 0) return causes;
    causes.push(
      requiredCause(`${field}.restartPolicy`, 'must specify restartPolicy when restart rules are used'),
    );
  } else if (!CONTAINER_RESTART_POLICIES.includes(policy as string)) {
    causes.push(notSupportedCause(`${field}.restartPolicy`, policy, CONTAINER_RESTART_POLICIES));
  }
  if (rules.length > MAX_RESTART_RULES)
    causes.push(tooManyCause(`${field}.restartPolicyRules`, rules.length, MAX_RESTART_RULES));
  rules.forEach((raw, i) => {
    const rule = isObj(raw) ? raw : {};
    const ruleField = `${field}.restartPolicyRules[${i}]`;
    if (!RESTART_RULE_ACTIONS.includes(rule.action as string))
      causes.push(notSupportedCause(`${ruleField}.action`, rule.action ?? '', RESTART_RULE_ACTIONS));
    if (!isObj(rule.exitCodes)) {
      causes.push(requiredCause(`${ruleField}.exitCodes`, 'must be specified'));
      return;
    }
    const { operator, values } = rule.exitCodes;
    if (!EXIT_CODE_OPERATORS.includes(operator as string))
      causes.push(notSupportedCause(`${ruleField}.exitCodes.operator`, operator ?? '', EXIT_CODE_OPERATORS));
    if (Array.isArray(values) && values.length > MAX_EXIT_CODE_VALUES)
      causes.push(tooManyCause(`${ruleField}.exitCodes.values`, values.length, MAX_EXIT_CODE_VALUES));
  });
  return causes;
}

/** Whether an init container is a sidecar (restartPolicy Always): only then may it have hooks and probes. */
export const isSidecar = (container: Obj): boolean => container.restartPolicy === 'Always';

/**
 * validateInitContainers: an init container that is not a sidecar may not have lifecycle hooks
 * or probes.
 */
export function initContainerForbiddenCauses(container: Obj, field: string): StatusCause[] {
  if (isSidecar(container)) return [];
  return ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']
    .filter((name) => container[name] !== undefined && container[name] !== null)
    .map((name) =>
      forbiddenCause(`${field}.${name}`, 'may not be set for init containers without restartPolicy=Always'),
    );
}
