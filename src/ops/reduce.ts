// ops.reduce: filled in by its own change.
export {};
