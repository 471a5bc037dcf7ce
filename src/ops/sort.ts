// ops.sort: filled in by its own change.
export {};
