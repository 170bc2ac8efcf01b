/** How one of tools/containerd's version switches (containerd, runc) is read. */
export interface VersionChoice<V extends string> {
  /** The option given in code, which wins; undefined: the variable's. */
  option: string | undefined;
  /** The option's name in messages, e.g. `version option`. */
  optionName: string;
  /** The environment variable that picks it for a whole run. */
  envName: string;
  env: NodeJS.ProcessEnv;
  versions: readonly V[];
  /** Without option or variable (or an empty one). */
  fallback: V;
  /** What is versioned, in messages: `containerd`, `runc`. */
  what: string;
  /** The typed error to throw with the message. */
  error(message: string): Error;
}

/** The option, else the variable, else the fallback; an unknown value is a typed error naming its source. */
export function chooseVersion<V extends string>(choice: VersionChoice<V>): V {
  const [source, value] =
    choice.option !== undefined
      ? [choice.optionName, choice.option]
      : [choice.envName, choice.env[choice.envName]];
  if (value === undefined || value === '') return choice.fallback;
  if ((choice.versions as readonly string[]).includes(value)) return value as V;
  throw choice.error(
    `${source} ${JSON.stringify(value)} is not a ${choice.what} version tools/containerd runs; use one of ${choice.versions.join(', ')}`,
  );
}
