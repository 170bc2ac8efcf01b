/** The [Service] section of a unit file: `Environment=` assignments by variable, other settings by key. */
export declare function serviceSection(path: string): {
  environment: Record<string, string>;
  settings: Record<string, string>;
};
