// In-process Kubernetes API server and EndpointSlice controller: see README.md.
export {};
