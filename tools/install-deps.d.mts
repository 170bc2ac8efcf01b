export declare const systemPackages: Record<string, string>;
export declare const GUEST_KERNEL_CACHE: string;
export declare function plannedUpgrades(simulation: string): { name: string; from: string; to: string }[];
export declare function kernelPackageOf(depends: string): string | undefined;
