// @nodeagent/primitives/x509: @peculiar/x509 set up once (evaluated when this is imported), and
// everything of /certificates. A subpath, so the root stays free of dependencies.
export * from '../certificates/index';
export { x509 } from './x509-setup';
