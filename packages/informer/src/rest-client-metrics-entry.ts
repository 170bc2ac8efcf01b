// @nodeagent/informer/rest-client-metrics: what a binary connects its rest_client_* metrics with.
// A subpath, as the root's export list is full (tools/build/root-exports.test.ts).
export { type RestClientMetrics, setRestClientMetrics } from './rest-client-metrics';
