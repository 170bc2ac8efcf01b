export declare const CONTAINERD_2_CACHE: string;
export declare const CONTAINERD_2_SERIES: string;
export declare const CONTAINERD_2_BINARIES: readonly string[];
export declare function containerd2Present(dir?: string): boolean;
export interface AptSourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy: string | undefined;
}
export declare function parseDeb822Sources(text: string): AptSourceEntry[];
export declare function parseOneLineSources(text: string): AptSourceEntry[];
export declare function debianArchiveOf(
  entries: AptSourceEntry[],
): { uri: string; signedBy: string | undefined } | undefined;
export declare function unstableSourceList(archive: { uri: string; signedBy?: string | undefined }): string;
export declare function candidateVersionOf(policy: string): string | undefined;
export declare class Containerd2FetchError extends Error {}
export declare function unpackUnstableContainerd(log?: (line: string) => void): void;
