// csv-parse's sync parser, loaded on the first CSV that needs it rather than
// by `import "sabre"`: a process that never parses CSV (a DataLoader, a forest
// on arrays already in memory) does not pay for it (~1.7 MB of RSS measured on
// the main thread). createRequire keeps parseCsv synchronous; the package's
// CommonJS build is one file.
import { createRequire } from "node:module";
import type { Options } from "csv-parse/sync";

type Parse = (input: string, options: Options) => unknown;
let parse: Parse | undefined;

/** csv-parse/sync's `parse` (records as arrays of strings with the options given here). */
export function parseRecords(text: string, options: Options): string[][] {
  parse ??= (createRequire(import.meta.url)("csv-parse/sync") as { parse: Parse }).parse;
  return parse(text, options) as string[][];
}
