/** Every failure of the SEA/image build carries a stable `code` and the value that caused it. */
export class SeaBuildError extends Error {
  /**
   * @param {string} code e.g. `ENTRY_MISSING`, `NODE_VERSION`, `UNSUPPORTED_PLATFORM`
   * @param {unknown} value the offending path/version/platform
   * @param {string} reason
   */
  constructor(code, value, reason) {
    super(`${code}: ${reason} (${String(value)})`);
    this.name = 'SeaBuildError';
    this.code = code;
    this.value = value;
  }
}
