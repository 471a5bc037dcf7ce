import { fileURLToPath } from "node:url";
import { SabreTypeError } from "../errors.js";
import { checkKnownKeys, checkSignal, describe } from "../validate.js";

/** Options of readNpy and writeNpy. */
export interface NpyOptions {
  /** Stops the read or write between chunks; the call rejects with AbortError (a half-written file is removed). */
  signal?: AbortSignal;
}

/** A file path given as a string or a file: URL, as the file name error messages show. */
export function checkPath(fn: string, path: unknown): string {
  if (typeof path === "string" && path !== "") return path;
  if (path instanceof URL) {
    try {
      return fileURLToPath(path);
    } catch (err) {
      throw new SabreTypeError(`${fn} needs a file path or a file: URL, got ${path.href}`, { cause: err });
    }
  }
  throw new SabreTypeError(`${fn} needs a file path (a non-empty string or a file: URL), got ${describe(path)}`);
}

export function checkNpyOptions(fn: string, options: unknown): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new SabreTypeError(`${fn}: options must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(fn, options, ["signal"]);
  return checkSignal((options as NpyOptions).signal);
}
