import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { brokenLinks, relativeLinks } from './check-links.mjs';

const script = fileURLToPath(new URL('./check-links.mjs', import.meta.url));
let site: string | undefined;
afterEach(() => {
  if (site) rmSync(site, { recursive: true, force: true });
  site = undefined;
});

function makeSite(pages: Record<string, string>): string {
  site = mkdtempSync(join(tmpdir(), `na-check-links-${process.pid}-`));
  for (const [path, html] of Object.entries(pages)) {
    mkdirSync(join(site, path, '..'), { recursive: true });
    writeFileSync(join(site, path), html);
  }
  return site;
}

describe('check-links', () => {
  it('keeps relative links and leaves out external ones', () => {
    expect(
      relativeLinks(
        '<a href="modules/a.html#x">a</a><a href="https://x.test/">b</a><img src="media/p.svg"><a href="">c</a>',
      ),
    ).toEqual(['modules/a.html#x', 'media/p.svg']);
  });

  it('passes a site whose links and fragments resolve', () => {
    const root = makeSite({
      'index.html': '<a href="modules/a.html#install">a</a><a href="#top">top</a><h1 id="top"></h1>',
      'modules/a.html': '<h2 id="install"></h2><a href="../index.html">home</a>',
    });
    expect(brokenLinks(root).broken).toEqual([]);
    const result = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
  });

  it('fails on a missing page and on a fragment the target page does not define, naming each', () => {
    const root = makeSite({
      'index.html': '<a href="modules/gone.html">x</a><a href="modules/a.html#nowhere">y</a>',
      'modules/a.html': '<h2 id="install"></h2>',
    });
    const result = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('index.html: modules/gone.html (no such file)');
    expect(result.stderr).toContain(
      'index.html: modules/a.html#nowhere (no id "nowhere" on the target page)',
    );
  });

  it('names the command to run when the site was not built', () => {
    const root = makeSite({ 'other.html': '' });
    const result = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('npm run docs');
  });
});
