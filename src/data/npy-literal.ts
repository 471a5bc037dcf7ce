/**
 * The subset of Python literals a .npy header can hold: a dict of string
 * keys, strings, integers (with Python 2's `L` suffix, which old numpy
 * wrote), True/False/None, tuples and lists. numpy reads the header with
 * `ast.literal_eval`; this reads the same texts without evaluating anything,
 * and says at which character it stopped.
 */

/** A Python tuple, told apart from a list (numpy wants `shape` to be a tuple). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** Integers are bigints so that a huge dimension is seen as huge, not rounded. */
export type PyValue = string | bigint | boolean | null | PyTuple | PyValue[] | Map<string, PyValue>;

/** A syntax error at character `at` of the text. */
export class LiteralError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", "0": "\0", a: "\x07", b: "\b", f: "\f", v: "\v" };

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private peek(): string {
    this.skipSpace();
    return this.text[this.pos] ?? "";
  }

  private fail(what: string): never {
    const c = this.text[this.pos];
    const found = c === undefined ? "the end of the header" : JSON.stringify(this.text.slice(this.pos, this.pos + 12).trimEnd());
    throw new LiteralError(`expected ${what}, found ${found}`, this.pos);
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(`'${c}'`);
    this.pos++;
  }

  value(): PyValue {
    const c = this.peek();
    if (c === "{") return this.dict();
    if (c === "(") return this.tuple();
    if (c === "[") return this.sequence("[", "]");
    if (c === "'" || c === '"') return this.string();
    if ((c === "u" || c === "U") && (this.text[this.pos + 1] === "'" || this.text[this.pos + 1] === '"')) {
      this.pos++;
      return this.string();
    }
    if (c === "-" || c === "+" || (c >= "0" && c <= "9")) return this.integer();
    for (const [word, v] of [["True", true], ["False", false], ["None", null]] as const) {
      if (this.text.startsWith(word, this.pos) && !/\w/.test(this.text[this.pos + word.length] ?? "")) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail("a Python literal (string, integer, True, False, None, tuple, list or dict)");
  }

  private dict(): Map<string, PyValue> {
    this.expect("{");
    const out = new Map<string, PyValue>();
    while (this.peek() !== "}") {
      if (this.peek() === "") this.fail("a key or '}'");
      const at = this.pos;
      const key = this.value();
      if (typeof key !== "string") throw new LiteralError("dict keys must be strings", at);
      if (out.has(key)) throw new LiteralError(`the key '${key}' appears twice`, at);
      this.expect(":");
      out.set(key, this.value());
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== "}") this.fail("',' or '}'");
    }
    this.pos++;
    return out;
  }

  /** `(a)` is `a` in Python; `(a,)` and `()` are tuples. */
  private tuple(): PyValue {
    const start = this.pos;
    this.expect("(");
    if (this.peek() === ")") {
      this.pos++;
      return new PyTuple([]);
    }
    const first = this.value();
    if (this.peek() === ")") {
      this.pos++;
      return first;
    }
    this.pos = start;
    return new PyTuple(this.sequence("(", ")"));
  }

  private sequence(open: string, close: string): PyValue[] {
    this.expect(open);
    const items: PyValue[] = [];
    while (this.peek() !== close) {
      if (this.peek() === "") this.fail(`an item or '${close}'`);
      items.push(this.value());
      if (this.peek() === ",") this.pos++;
      else if (this.peek() !== close) this.fail(`',' or '${close}'`);
    }
    this.pos++;
    return items;
  }

  private string(): string {
    const quote = this.text[this.pos]!;
    const start = this.pos++;
    let out = "";
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined || c === "\n") throw new LiteralError("unterminated string", start);
      if (c === quote) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.text[this.pos++] ?? "";
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === "x" || e === "u") {
        const n = e === "x" ? 2 : 4;
        const hex = this.text.slice(this.pos, this.pos + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new LiteralError(`bad \\${e} escape`, this.pos - 2);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += n;
      } else out += "\\" + e;
    }
  }

  private integer(): bigint {
    const m = /^[-+]?\s*(0|[1-9][0-9]*)[lL]?(?![\w.])/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) this.fail("an integer");
    const sign = this.text[this.pos] === "-" ? -1n : 1n;
    this.pos += m[0].length;
    return sign * BigInt(m[1]!);
  }

  end(): void {
    if (this.peek() !== "") this.fail("the end of the header");
  }
}

/** Parses one Python literal filling the whole text (surrounding whitespace allowed). */
export function parsePyLiteral(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value();
  p.end();
  return v;
}

/** A short Python-like rendering of a value, for error messages. */
export function pyRepr(v: PyValue): string {
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "bigint") return String(v);
  if (typeof v === "string") return `'${v}'`;
  if (v instanceof PyTuple) return `(${v.items.map(pyRepr).join(", ")}${v.items.length === 1 ? "," : ""})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(", ")}}`;
}
