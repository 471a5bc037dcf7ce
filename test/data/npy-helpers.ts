// Helpers shared by the .npy tests: fixture paths, hand-built files, C-order bytes.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { shared, type NdArray } from "sabre";

/** The checked-in fixtures (the tests run from build/test/data). */
export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/npy/", import.meta.url));

export const PYTHON = "/usr/bin/python3";

/** Whether /usr/bin/python3 imports numpy; when not, the live cases are skipped with a log line. */
export const hasNumpy: boolean = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore" }).status === 0;

/** Runs a Python snippet; throws with its stderr if it fails. */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ["-c", code, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * A .npy file built by hand: magic, version, header length, the header text
 * padded to 64 bytes as numpy pads it, then `body`. `patch` edits the bytes
 * afterwards for the malformed cases.
 */
export function npyBytes(header: string, body: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const lengthBytes = major === 1 ? 2 : 4;
  const start = 8 + lengthBytes;
  const text = Buffer.from(header, major === 3 ? "utf8" : "latin1");
  const total = Math.ceil((start + text.length + 1) / 64) * 64;
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (lengthBytes === 2) view.setUint16(8, total - start, true);
  else view.setUint32(8, total - start, true);
  out.fill(0x20, start, total - 1);
  out.set(text, start);
  out[total - 1] = 0x0a;
  out.set(body, total);
  return out;
}

/** The elements of an ndarray of any strides as C-order bytes in this (little-endian) machine's order, as hex. */
export function cOrderHex(a: NdArray): string {
  const c = shared.from(a);
  return Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength).toString("hex");
}
