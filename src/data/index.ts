export { readIdx, readIdxSync, parseIdx } from "./idx.js";
export { readCsv, parseCsv, type ReadCsvOptions, type CsvTable } from "./csv.js";
export { readNpy, readNpySync, parseNpy } from "./npy.js";
export { writeNpy, writeNpySync } from "./npy-write.js";
export type { NpyOptions } from "./npy-path.js";
export * from "./loader/index.js";
