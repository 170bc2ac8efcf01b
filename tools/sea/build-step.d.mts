export declare function runBuildStep(file: string, args: string[], code?: string, hint?: string): void;
