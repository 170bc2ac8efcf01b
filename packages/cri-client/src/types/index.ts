// @nodeagent/cri-client/types: the runtime.v1 messages and enums generated from the CRI proto, and
// the codec that turns them into wire bytes. Kept off the root so that importing the client does not
// bring 176 generated names (several of which, like `Container`, collide with other packages).
export { type MessageCodec, type MessageInput, messageCodec } from '../codec';
export { enumName } from '../enum-name';
export { criMethods } from '../generated/methods';
export * from '../generated/types';
export { runtimeV1Root } from '../reflection-root';
