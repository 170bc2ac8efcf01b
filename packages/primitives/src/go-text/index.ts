// Texts the Go originals print, for messages users and scripts match on: strconv's quoting and
// integer errors, utilerrors' aggregate, encoding/json's escaping. Used by the kubelet and
// kube-proxy alike.
export { goAggregateText } from './go-aggregate-text';
export { type GoAtoiResult, goAtoi } from './go-atoi';
export { goDialError, goDialTimeout } from './go-dial-error';
export { goJson, goSortedMap } from './go-json';
export { type GoParseIntResult, goParseInt } from './go-parse-int';
export { goQuote } from './go-quote';
export { joinHostPort } from './join-host-port';
