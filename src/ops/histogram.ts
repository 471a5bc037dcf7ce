// ops.histogram: filled in by its own change.
export {};
