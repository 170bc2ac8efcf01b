// @nodeagent/cri-client/testing: an in-memory CRI runtime for tests.
export {
  type AnyRpc,
  type CallGate,
  type ExecHandler,
  type FakeImageInput,
  FakeRuntime,
  type FakeRuntimeOptions,
  type InjectedError,
} from './fake-runtime';
export { isValidImageReference, withDefaultTag } from './image-reference';
export { CommandNotFoundError, runCommand, type ShellResult, splitWords } from './mini-shell';
