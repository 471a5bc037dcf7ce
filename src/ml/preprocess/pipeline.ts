// Filled in by the encoders/split/pipeline work (issue 11).
export {};
