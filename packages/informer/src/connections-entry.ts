// @nodeagent/informer/connections: how a process shares and closes its API connections, and
// where each HTTP/2 stream is published. A subpath, as the root's export list is full
// (tools/build/root-exports.test.ts).
export { HTTP2_STREAM_CHANNEL } from './api-transport';
export { closeAllConnections } from './close-connections';
export { separateConnections } from './connection-groups';
