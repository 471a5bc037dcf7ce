// Whether a file's bytes are UTF-8 text, and where they stop being. readCsv
// decodes cells and labels as UTF-8: a Latin-1 or UTF-16 file would decode to
// U+FFFD replacement characters, i.e. labels that silently merge ("café" and
// "cafè" both become "caf\uFFFD") and csv-parse errors quoting garbage bytes.
import { isUtf8 } from "node:buffer";
import { FormatError } from "../errors.js";

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function firstNonUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Lead bytes 0xc2-0xf4 only: 0xc0/0xc1 (overlong) and 0xf5+ (past U+10FFFF) never start a sequence.
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0) return i;
    let cp = c & (n === 1 ? 0x1f : n === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    const min = n === 1 ? 0x80 : n === 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

/**
 * Throws a FormatError unless `bytes` are UTF-8 text, naming the first bad
 * byte's offset and line (the check itself is the engine's native isUtf8;
 * the walk that finds the offset runs only for a bad file).
 */
export function checkUtf8(bytes: Uint8Array, where: string): void {
  if (bytes.length === 0 || isUtf8(bytes)) return;
  const at = firstNonUtf8(bytes);
  if (at < 0) throw new FormatError(`${where} is not UTF-8 text; save it as UTF-8`);
  let line = 1;
  for (let i = 0; i < at; i++) if (bytes[i] === 10) line++;
  const bom16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  const hint = bom16 ? "it starts with a UTF-16 byte-order mark" : "a Latin-1 or other 8-bit encoding?";
  throw new FormatError(
    `${where} is not UTF-8 text: byte 0x${bytes[at]!.toString(16).padStart(2, "0")} at offset ${at} (line ${line}) ` +
      `does not start or continue a UTF-8 character (${hint}); save the file as UTF-8`,
  );
}
