// One-off scaffolding used to create the package skeletons; kept so new packages get the same shape.
// Usage: node tools/scaffold.mjs <packages|apps>/<dir> "<description>" [dep@range ...]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [where, description, ...deps] = process.argv.slice(2);
if (!where || !description)
  throw new Error('usage: scaffold.mjs <packages|apps>/<dir> "<description>" [deps...]');
const dir = where.split('/')[1];
const root = join(process.cwd(), where);
const isApp = where.startsWith('apps/');
const name = isApp ? `nodeagent-${dir}` : `@nodeagent/${dir}`;
mkdirSync(join(root, 'src'), { recursive: true });
mkdirSync(join(root, 'test'), { recursive: true });

const dependencies = Object.fromEntries(
  deps.map((d) => {
    const at = d.lastIndexOf('@');
    return at > 0 ? [d.slice(0, at), d.slice(at + 1)] : [d, '*'];
  }),
);
const pkg = {
  name,
  version: '0.1.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.11' },
  repository: { type: 'git', url: 'git+https://example.invalid/nodeagent.git', directory: where },
  files: ['dist', 'src', '!src/**/*.test.ts'],
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  exports: {
    '.': {
      '@nodeagent/source': './src/index.ts',
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    },
    './package.json': './package.json',
  },
  publishConfig: { access: 'public', provenance: true },
  scripts: {
    build: 'tsup',
    typecheck: 'tsc -b',
    lint: 'biome check .',
    test: 'vitest run',
    publint: 'publint --strict && attw --pack . --profile node16',
  },
  dependencies,
};
const file = (p, s) => {
  if (!existsSync(join(root, p))) writeFileSync(join(root, p), s);
};
file('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
const refs = deps
  .filter((d) => d.startsWith('@nodeagent/'))
  .map((d) => `{ "path": "../../packages/${d.split('/')[1].split('@')[0]}" }`);
file(
  'tsconfig.json',
  `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": {
    "composite": true,
    "emitDeclarationOnly": true,
    "rootDir": ".",
    "outDir": "out-tsc",
    "tsBuildInfoFile": "out-tsc/tsconfig.tsbuildinfo"
  },
  "include": ["src", "test", "bench"],
  "references": [${refs.join(', ')}]
}
`,
);
file(
  'tsconfig.build.json',
  `{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "customConditions": [], "composite": false, "rootDir": "src" },
  "include": ["src"],
  "exclude": ["src/**/*.test.ts"]
}
`,
);
file(
  'tsup.config.ts',
  `import { libraryBuild } from '../../tools/build/tsup-preset';\n\nexport default libraryBuild();\n`,
);
file(
  'vitest.config.ts',
  `import { nodeagentProject } from '../../tools/build/vitest-preset';\n\nexport default nodeagentProject('${dir}');\n`,
);
file('src/index.ts', `// Public surface of ${name}.\nexport {};\n`);
file('README.md', `# ${name}\n\n${description}\n`);
console.log(`scaffolded ${name} in ${where}`);
