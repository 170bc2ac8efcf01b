// Network-namespace helpers for tests: see README.md.
export {};
