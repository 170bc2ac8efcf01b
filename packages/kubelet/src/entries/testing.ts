// @nodeagent/kubelet/testing: test doubles for the kubelet's seams, kept off the root so that
// production imports do not pull them in.
export { RecordingMounter } from '../volumes/mounter';
