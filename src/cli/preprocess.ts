// `sabre preprocess` (filled in by its issue).
import { SabreTypeError } from "../errors.js";

export const PREPROCESS_USAGE = "";

export async function preprocessCommand(_args: string[]): Promise<number> {
  throw new SabreTypeError("sabre preprocess is not built yet");
}
