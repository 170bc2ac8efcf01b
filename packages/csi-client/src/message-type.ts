import { precompiledMessageTypes } from '@nodeagent/plugin-api/codec';
import { codecFunctions, enumValues } from './generated/codec-functions';

/** A CSI message type by full name (`csi.v1.NodeGetInfoResponse`), made once. */
export const messageType = /* @__PURE__ */ precompiledMessageTypes(codecFunctions, enumValues, 'CSI');
