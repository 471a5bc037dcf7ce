// The byte parser of the parallel CSV reader against Number itself, on many
// random doubles in every notation JavaScript and numpy print, and on the
// odd forms Number accepts or refuses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { isMissingCell, parseCell } from "../../kernels/data/csv-number.js";

const enc = new TextEncoder();

function same(s: string): void {
  const b = enc.encode(`#${s}#`);
  const got = parseCell(b, 1, b.length - 1);
  const want = s === "" ? Number.NaN : Number(s);
  if (!Object.is(got, want)) assert.unreachable(`parseCell(${JSON.stringify(s)}) = ${got}, Number gives ${want}`);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("random doubles in every notation parse as Number parses them", () => {
  const rand = mulberry32(11);
  const f64 = new Float64Array(1);
  const u32 = new Uint32Array(f64.buffer);
  let n = 0;
  for (let i = 0; i < 40000; i++) {
    // Random bit patterns cover every exponent; scaled normals cover the usual data.
    u32[0] = (rand() * 2 ** 32) >>> 0;
    u32[1] = (rand() * 2 ** 32) >>> 0;
    const v = i % 2 === 0 ? f64[0]! : (rand() - 0.5) * 10 ** Math.floor(rand() * 12 - 4);
    if (!Number.isFinite(v)) continue;
    const forms = [String(v), v.toExponential(), v.toPrecision(1 + (i % 17)), v.toExponential(i % 20).toUpperCase()];
    if (Math.abs(v) < 1e21) forms.push(v.toFixed(i % 12));
    for (const s of forms) {
      same(s);
      same(s.replace(/^-/, "+"));
      n++;
    }
  }
  assert.ok(n > 100000);
});

test("digit strings around 2^53 and exponents around 22, leading and trailing zeros", () => {
  const rand = mulberry32(5);
  for (let i = 0; i < 30000; i++) {
    const len = 1 + Math.floor(rand() * 20);
    let digits = "";
    for (let k = 0; k < len; k++) digits += String(Math.floor(rand() * 10));
    const dot = Math.floor(rand() * (len + 2)) - 1;
    let m = dot < 0 || dot > len ? digits : `${digits.slice(0, dot)}.${digits.slice(dot)}`;
    if (rand() < 0.2) m = `000${m}`;
    if (rand() < 0.2) m = `${m}000`.replace(/^(\d+)000$/, "$1.000");
    const e = Math.floor(rand() * 70) - 35;
    const sign = ["", "-", "+"][i % 3]!;
    same(`${sign}${m}`);
    same(`${sign}${m}e${e}`);
    same(`${sign}${m}E+${Math.abs(e)}`);
  }
  for (const s of ["9007199254740991", "9007199254740992", "9007199254740993", "90071992547409931", "1e22", "1e23", "123456789012345e-22", "1e-22", "1e-23", "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "1.8e308"]) {
    same(s);
    same(`-${s}`);
  }
});

test("odd forms: what Number accepts (hex, Infinity, '1.', '.5') and refuses", () => {
  const forms = ["0", "-0", "+0", "-0.0", "0e999", "-0e-999", "00012", "1.", ".5", "-.5", "+.5e3", ".", "-", "+", "e5", "1e", "1e+", "1e-", "1e5.5", "--1", "+-1", "1_000", "0x1F", "0X1f", "-0x1F", "0b101", "0o17", "Infinity", "-Infinity", "+Infinity", "inf", "NaN", "nan", "NA", "1,5", "1 2", "1e99999999", "1e-99999999", "١", "1\u00a0", "٣.٥", "12abc", "abc"];
  for (const s of forms) same(s);
  same("");
});

test("missing cells are exactly '', 'NaN', 'nan' and 'NA'", () => {
  for (const [s, want] of [["", true], ["NaN", true], ["nan", true], ["NA", true], ["na", false], ["NAN", false], ["Nan", false], ["N", false], ["NaNa", false], ["x", false]] as const) {
    const b = enc.encode(s);
    assert.is(isMissingCell(b, 0, b.length), want, s);
  }
});

test.run();
