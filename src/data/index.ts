export { readIdx, readIdxSync, parseIdx } from "./idx.js";
export { readCsv, parseCsv, type ReadCsvOptions, type CsvTable } from "./csv.js";
