// This package's API docs: every published entry point (see tools/build/typedoc-package.mjs).
import { packageDocs } from '../../tools/build/typedoc-package.mjs';

export default packageDocs(import.meta.url);
