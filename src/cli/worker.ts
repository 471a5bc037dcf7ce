// `sabre worker` (filled in by its issue).
import { SabreTypeError } from "../errors.js";

export const WORKER_USAGE = "";

export async function workerCommand(_args: string[]): Promise<number> {
  throw new SabreTypeError("sabre worker is not built yet");
}
