/** Whole lines out of a child's output (stdout or stderr) chunks: a line split across two chunks comes out once, whole. */
export class LineSplitter {
  private partial = '';

  /** The lines `chunk` completes (without their newlines); the unfinished rest waits for the next. */
  push(chunk: string): string[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    return lines;
  }
}
