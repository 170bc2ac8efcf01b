/**
 * widenNftCache for a payload that is still being produced: inserts `-S` after every
 * `*table` line of the chunks as they pass, giving byte for byte what widenNftCache gives for
 * the whole text (so its mapLine applies to errors). A table line split across chunks is
 * handled; chunk boundaries need not fall on lines.
 */
export async function* widenNftCacheStream(source: AsyncIterable<string>): AsyncGenerator<string> {
  let atLineStart = true;
  // Inside a `*table` line whose newline has not come yet.
  let inHeader = false;
  for await (const chunk of source) {
    let out = '';
    let copied = 0;
    let i = 0;
    while (i < chunk.length) {
      if (inHeader) {
        const nl = chunk.indexOf('\n', i);
        if (nl < 0) break;
        out += `${chunk.slice(copied, nl)}\n-S`;
        copied = nl;
        inHeader = false;
        atLineStart = true;
        i = nl + 1;
        continue;
      }
      if (atLineStart && chunk.charCodeAt(i) === 42 /* * */) {
        inHeader = true;
        atLineStart = false;
        continue;
      }
      const nl = chunk.indexOf('\n', i);
      if (nl < 0) {
        atLineStart = false;
        break;
      }
      atLineStart = true;
      i = nl + 1;
    }
    out += chunk.slice(copied);
    if (out !== '') yield out;
  }
  if (inHeader) yield '\n-S';
}
