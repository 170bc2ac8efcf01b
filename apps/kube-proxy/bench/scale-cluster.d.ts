import type { ApiServer } from '@nodeagent/testing';
export declare const BENCH_NAMESPACE = "bench";
export declare const NODE_NAME = "bench-node";
/** The Node's InternalIP (TEST-NET-1: nothing routes to it; the daemon only uses it in rules). */
export declare const NODE_IP = "192.0.2.10";
/** Pod IPs are allocated from here (the daemon's --cluster-cidr). */
export declare const CLUSTER_CIDR = "10.128.0.0/9";
/** 10.96.0.0/12 from offset 16 on (clear of the kubernetes Service's .1); room for 1M Services. */
export declare const clusterIP: (i: number) => string;
/** The k-th pod IP of 10.128.0.0/9 (8M addresses). */
export declare const podIP: (k: number) => string;
/** The bench's i-th Service's spec as the API server stores it: ClusterIP, one TCP port, the defaults filled in. */
export declare function serviceSpec(i: number): {
    clusterIP: string;
    ports: {
        name: string;
        port: number;
        protocol: string;
        targetPort: number;
    }[];
    selector: {
        app: string;
    };
    type: string;
    sessionAffinity: string;
    internalTrafficPolicy: string;
};
/** The EndpointSlice the EndpointSlice controller writes for Service i; `addresses[j]` is endpoint j's IP. */
export declare function endpointSlice(i: number, addresses: readonly string[]): {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace: string;
        labels: {
            'kubernetes.io/service-name': string;
            'endpointslice.kubernetes.io/managed-by': string;
        };
        annotations: {
            'endpoints.kubernetes.io/last-change-trigger-time': string;
        };
        ownerReferences: {
            apiVersion: string;
            kind: string;
            name: string;
            uid: string;
            controller: boolean;
            blockOwnerDeletion: boolean;
        }[];
        managedFields: {
            manager: string;
            operation: string;
            apiVersion: string;
            time: string;
            fieldsType: string;
            fieldsV1: {
                'f:addressType': {};
                'f:endpoints': {};
                'f:metadata': {
                    'f:labels': {};
                };
                'f:ports': {};
            };
        }[];
    };
    addressType: string;
    ports: {
        name: string;
        port: number;
        protocol: string;
    }[];
    endpoints: {
        addresses: string[];
        conditions: {
            ready: boolean;
            serving: boolean;
            terminating: boolean;
        };
        nodeName: string;
        targetRef: {
            kind: string;
            namespace: string;
            name: string;
            uid: string;
        };
    }[];
};
/** The initial addresses of Service i's endpoints. */
export declare function initialAddresses(i: number, endpoints: number): string[];
/**
 * Writes the namespace and `services` Services (no slices, no Node) into the API server: the
 * cluster-sized list a kubelet reads for its service links (the kubelet start-up bench's
 * NA_STARTUP_SERVICES).
 */
export declare function populateServices(api: ApiServer, services: number): void;
/** Writes the Node, the namespace and `services` Services with their slices into the API server. */
export declare function populateCluster(api: ApiServer, services: number, endpoints: number): void;
/**
 * One endpoint change as a rolling update makes it: Service `i`'s endpoint 0 moves to
 * `address` (a new pod).
 */
export declare function moveEndpoint(api: ApiServer, i: number, endpoints: number, address: string): void;
//# sourceMappingURL=scale-cluster.d.ts.map