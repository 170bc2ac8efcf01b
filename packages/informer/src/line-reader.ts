/**
 * Splits a text stream into lines as its chunks arrive, for the newline-delimited JSON of a
 * watch. Only the chunk is searched for line ends; a line split over chunks is kept as its
 * pieces and joined once, so an object larger than a chunk costs one copy, not one per chunk.
 */
export class LineReader {
  private partial: string[] = [];

  /**
   * Hands each line `chunk` completes to `onLine` (without its `\n`) and keeps the unfinished
   * rest. Stops at once, dropping what is left, when `onLine` returns false.
   */
  push(chunk: string, onLine: (line: string) => boolean): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      let line = chunk.slice(start, nl);
      start = nl + 1;
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = this.partial.join('');
        this.partial = [];
      }
      if (!onLine(line)) {
        this.partial = [];
        return;
      }
    }
    if (start < chunk.length) this.partial.push(chunk.slice(start));
  }
}
