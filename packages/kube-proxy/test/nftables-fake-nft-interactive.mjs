// Stands in for `nft -i` in unit tests: reads one command line at a time from stdin and answers
// the way nft 1.0 does. A line holding a single word is a syntax error echoed on stderr (what
// NftSession's markers rely on); a line containing "fail" is a rejected transaction; "hang"
// never answers; "exit" ends the process. Every applied line is appended to $FAKE_NFT_LOG.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const log = process.env.FAKE_NFT_LOG;
const rl = createInterface({ input: process.stdin });
let hung = false;
rl.on('line', (line) => {
  if (hung) return;
  if (/^\S+$/.test(line)) {
    process.stderr.write(
      `Error: syntax error, unexpected newline, expecting string\n${line}\n${' '.repeat(line.length)}^\n`,
    );
    return;
  }
  if (line.includes('hang')) {
    hung = true;
    return;
  }
  if (line.includes('exit')) process.exit(3);
  if (line.includes('fail')) {
    process.stderr.write(`Error: Could not process rule: No such file or directory\n${line}\n^^^^\n`);
    return;
  }
  if (log) appendFileSync(log, `${line}\n`);
});
rl.on('close', () => process.exit(0));
