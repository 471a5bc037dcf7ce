// defineDataset: what a dataset module running in the workers exports (issue 12).
export {};
