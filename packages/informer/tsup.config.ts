import { libraryBuild } from '../../tools/build/tsup-preset';

// The informer and single API calls at the root; the API-error predicates at /errors; connecting
// the rest_client_* metrics at /rest-client-metrics (one connection for all entries); the protobuf
// decoders on their own at /protobuf; sharing connections and the HTTP/2 stream channel at
// /connections. Shared
// chunks keep one copy of each class across entries, so `instanceof` holds between them.
export default libraryBuild({
  entry: {
    index: 'src/index.ts',
    errors: 'src/errors/index.ts',
    'rest-client-metrics': 'src/rest-client-metrics-entry.ts',
    protobuf: 'src/protobuf-entry.ts',
    connections: 'src/connections-entry.ts',
  },
  splitting: true,
});
