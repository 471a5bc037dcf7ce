// ops.map: filled in by its own change.
export {};
