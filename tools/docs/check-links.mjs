#!/usr/bin/env node
// `node tools/docs/check-links.mjs [docs/api]`: follows every relative link and image of the
// generated API site (href and src of each .html page) and fails, one `page: link` line each,
// when the target file is missing or the #fragment names no id on the target page. TypeDoc's own
// validation checks the links it makes from doc comments; this checks the pages as a browser
// would follow them, the README links copied into each package's page included.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function htmlFiles(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return path.endsWith('.html') ? [path] : [];
  });
}

const LINK = /\s(?:href|src)="([^"]*)"/g;

/** The relative links of a page's HTML (no scheme, not protocol-relative), entities decoded. */
export function relativeLinks(html) {
  return [...html.matchAll(LINK)]
    .map((m) => m[1].replace(/&amp;/g, '&'))
    .filter((link) => link !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(link) && !link.startsWith('//'));
}

/** The ids (and names) a page defines, for its #fragments. */
export function anchorsOf(html) {
  return new Set([...html.matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1]));
}

/** Every broken link under `root`: `{ page, link, why }`. */
export function brokenLinks(root) {
  const pages = htmlFiles(root);
  const anchors = new Map();
  const anchorsFor = (file) => {
    if (!anchors.has(file)) anchors.set(file, anchorsOf(readFileSync(file, 'utf8')));
    return anchors.get(file);
  };
  const broken = [];
  for (const page of pages) {
    for (const link of relativeLinks(readFileSync(page, 'utf8'))) {
      const [pathAndQuery, fragment] = link.split('#', 2);
      const path = decodeURIComponent((pathAndQuery ?? '').split('?')[0] ?? '');
      const target = path === '' ? page : resolve(dirname(page), path);
      if (!existsSync(target)) {
        broken.push({ page: relative(root, page), link, why: 'no such file' });
        continue;
      }
      if (fragment && target.endsWith('.html') && !anchorsFor(target).has(decodeURIComponent(fragment)))
        broken.push({ page: relative(root, page), link, why: `no id "${fragment}" on the target page` });
    }
  }
  return { pages: pages.length, broken };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = resolve(
    process.argv[2] ?? join(fileURLToPath(new URL('../..', import.meta.url)), 'docs', 'api'),
  );
  if (!existsSync(join(root, 'index.html'))) {
    console.error(`check-links: no ${join(root, 'index.html')}; run npm run build && npm run docs first`);
    process.exit(1);
  }
  const { pages, broken } = brokenLinks(root);
  for (const { page, link, why } of broken) console.error(`${page}: ${link} (${why})`);
  if (broken.length > 0) {
    console.error(`check-links: ${broken.length} broken link(s) in ${pages} pages`);
    process.exit(1);
  }
  console.log(`check-links: ${pages} pages, every relative link resolves`);
}
