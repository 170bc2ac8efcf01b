export declare class SeaBuildError extends Error {
  readonly code: string;
  readonly value: unknown;
  constructor(code: string, value: unknown, reason: string);
}
