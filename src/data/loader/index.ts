// DataLoader, datasets and samplers (issue 12).
export {};
