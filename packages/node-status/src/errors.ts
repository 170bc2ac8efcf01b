/** Base class of this package's errors: a stable `code` plus the offending field and value. */
export class NodeStatusError extends Error {
  constructor(
    readonly code: string,
    readonly field: string,
    readonly value: unknown,
    detail: string,
  ) {
    super(`${field}: ${detail} (got ${JSON.stringify(value) ?? String(value)})`);
    this.name = new.target.name;
  }
}

/** A configuration value the reporter cannot use. */
export class InvalidConfigError extends NodeStatusError {
  constructor(field: string, value: unknown, detail: string) {
    super('InvalidConfig', field, value, detail);
  }
}

/** A resource quantity string that does not parse (`"12Qi"`, `"-1"`). */
export class InvalidQuantityError extends NodeStatusError {
  constructor(field: string, value: unknown, detail = 'not a valid resource quantity') {
    super('InvalidQuantity', field, value, detail);
  }
}

/** Reading machine facts (/proc, cgroups, statfs) failed. */
export class MachineInfoError extends NodeStatusError {
  constructor(field: string, value: unknown, detail: string) {
    super('MachineInfo', field, value, detail);
  }
}
