/** What precedes the app's bundle in its script: the CommonJS wrapper's head, a line of its own. */
export declare const APP_SCRIPT_HEAD: string;
/** What follows the bundle. */
export declare const APP_SCRIPT_TAIL: string;
/** The vm.Script `lineOffset` that makes the bundle's first line line 1. */
export declare const APP_SCRIPT_LINE_OFFSET: number;
/** The script's source for a bundle's text. */
export declare function appScriptSource(bundle: string): string;
