// A hollow worker thread run from the TypeScript sources (a checkout, under tsx or vitest): Node
// 20 cannot load .ts itself, so this registers tsx's loader, then imports the entry named in
// argv. Not part of the package: dist/ and the bundle start their workers without it (a .js
// entry runs as it is), and tsx is only a development tool of the repository.
import { register } from 'tsx/esm/api';

register();
await import(process.argv[2]);
