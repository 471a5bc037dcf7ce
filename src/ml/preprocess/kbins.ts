// Filled in by the scalers/imputer/KBins work (issue 11).
export {};
