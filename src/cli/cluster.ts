// `sabre cluster` (filled in by its issue).
import { SabreTypeError } from "../errors.js";

export const CLUSTER_USAGE = "";

export async function clusterCommand(_args: string[]): Promise<number> {
  throw new SabreTypeError("sabre cluster is not built yet");
}
