// `sabre preprocess`: a CSV or .npy table imputed, scaled, binned and
// one-hot encoded by a Pipeline fitted on it (on the train rows with
// --split), written as .npy files, the fitted pipeline saved as JSON.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readCsv } from "../data/csv.js";
import { readNpy } from "../data/npy.js";
import { writeNpy } from "../data/npy-write.js";
import { Engine } from "../engine/engine.js";
import { SabreTypeError } from "../errors.js";
import type { NdArray } from "../memory/ndarray-type.js";
import { shared } from "../memory/shared.js";
import { ColumnTransformer } from "../ml/preprocess/column-transformer.js";
import { SimpleImputer } from "../ml/preprocess/imputer.js";
import { KBinsDiscretizer } from "../ml/preprocess/kbins.js";
import { MinMaxScaler, RobustScaler, StandardScaler } from "../ml/preprocess/scalers.js";
import { LabelEncoder } from "../ml/preprocess/label-encoder.js";
import { OneHotEncoder } from "../ml/preprocess/onehot.js";
import { Pipeline } from "../ml/preprocess/pipeline.js";
import { trainTestSplit } from "../ml/preprocess/split.js";
import type { Transformer } from "../ml/preprocess/transformer.js";
import { ProgressBar } from "./progress.js";

export const PREPROCESS_USAGE = `usage:
  sabre preprocess <in.csv|in.npy> --out <out.npy>
        [--impute mean|median|most_frequent] [--scale standard|minmax|robust]
        [--bins N] [--one-hot COLS] [--target COL] [--split FRACTION --seed N]
        [--save pipeline.json] [--threads N]

Fits a pipeline on the table and writes the transformed rows as float64 .npy:
the other columns go through --impute, --scale and --bins (KBinsDiscretizer,
quantile, ordinal) in that order; the --one-hot columns (comma-separated
header names or indices of the feature columns, i.e. not counting --target)
are one-hot encoded after them (unknown values in test rows give zeros).
--target COL (a name, or an index of the file's columns; -1 = last) is split
off and written as <out>-y.npy (string labels as int32 codes, classes
printed and saved). --split F holds out a fraction F (or a row count) of the
rows, chosen with --seed, stratified on the target when its labels are
strings or integers: the pipeline is fitted on the train rows only; files
<out>-train.npy, <out>-test.npy (and <out>-y-train.npy, <out>-y-test.npy).
--save writes the fitted Pipeline as JSON (Pipeline.fromJSON reads it).
`;

const SCALERS: Record<string, () => Transformer> = {
  standard: () => new StandardScaler(),
  minmax: () => new MinMaxScaler(),
  robust: () => new RobustScaler(),
};
const IMPUTE = ["mean", "median", "most_frequent"] as const;

function count(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isInteger(n) || n < min) throw new SabreTypeError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** out.npy -> out-<suffix>.npy */
function named(out: string, suffix: string): string {
  const base = out.endsWith(".npy") ? out.slice(0, -4) : out;
  return `${base}-${suffix}.npy`;
}

interface Table {
  X: NdArray;
  y: number[] | string[] | undefined;
  columns: string[];
}

async function readTable(file: string, target: string | undefined): Promise<Table> {
  const index = target !== undefined && /^-?\d+$/.test(target) ? Number(target) : undefined;
  if (!file.endsWith(".npy")) {
    const t = await readCsv(file, target === undefined ? {} : { target: index ?? target });
    return { X: t.X, y: t.y, columns: t.columns };
  }
  const arr = await readNpy(file);
  if (arr.shape.length !== 2) throw new SabreTypeError(`${file} must hold a 2-D table, got shape [${arr.shape.join(", ")}]`);
  if (arr.dtype === "bigint64" || arr.dtype === "biguint64") throw new SabreTypeError(`${file} has dtype ${arr.dtype}; use a float or 32-bit integer table`);
  const [n, d] = arr.shape as [number, number];
  const columns = Array.from({ length: d }, (_, j) => String(j));
  if (target === undefined) return { X: arr, y: undefined, columns };
  if (index === undefined) throw new SabreTypeError(`--target ${JSON.stringify(target)}: a .npy table has no column names; give a column index`);
  if (index < -d || index >= d) throw new SabreTypeError(`--target ${index} is out of range for ${d} columns`);
  const t = index < 0 ? d + index : index;
  const X = shared.zeros("float64", [n, d - 1]);
  const y = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    y[i] = Number(arr.get(i, t));
    for (let j = 0, k = 0; j < d; j++) if (j !== t) X.data[i * (d - 1) + k++] = Number(arr.get(i, j));
  }
  return { X, y, columns: columns.filter((_, j) => j !== t) };
}

function resolveColumns(spec: string, columns: string[]): number[] {
  const out = spec.split(",").map((raw) => {
    const c = raw.trim();
    const byName = columns.indexOf(c);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(c) && Number(c) < columns.length) return Number(c);
    throw new SabreTypeError(`--one-hot: no column ${JSON.stringify(c)} (columns: ${columns.join(", ")})`);
  });
  if (new Set(out).size !== out.length) throw new SabreTypeError(`--one-hot: a column is named twice in ${JSON.stringify(spec)}`);
  return out;
}

function buildPipeline(values: Record<string, string | undefined>, d: number, oneHot: number[]): Pipeline | null {
  const numeric: Transformer[] = [];
  if (values.impute !== undefined) {
    const strategy = IMPUTE.find((s) => s === values.impute);
    if (!strategy) throw new SabreTypeError(`--impute must be one of ${IMPUTE.join(", ")}, got ${JSON.stringify(values.impute)}`);
    numeric.push(new SimpleImputer({ strategy }));
  }
  if (values.scale !== undefined) {
    const make = Object.hasOwn(SCALERS, values.scale) ? SCALERS[values.scale] : undefined;
    if (!make) throw new SabreTypeError(`--scale must be one of ${Object.keys(SCALERS).join(", ")}, got ${JSON.stringify(values.scale)}`);
    numeric.push(make());
  }
  const bins = count("bins", values.bins, 2);
  if (bins !== undefined) numeric.push(new KBinsDiscretizer({ nBins: bins, encode: "ordinal", strategy: "quantile" }));
  if (oneHot.length === 0) return numeric.length === 0 ? null : new Pipeline(numeric);
  const rest = Array.from({ length: d }, (_, j) => j).filter((j) => !oneHot.includes(j));
  const numericStep: Transformer | "passthrough" = numeric.length === 0 ? "passthrough" : numeric.length === 1 ? numeric[0]! : (new Pipeline(numeric) as unknown as Transformer);
  return new Pipeline([
    new ColumnTransformer([
      ["numeric", numericStep, rest],
      ["onehot", new OneHotEncoder({ handleUnknown: "ignore" }), oneHot],
    ]),
  ]);
}

/** Fraction in (0, 1) or a row count. */
function splitSize(v: string): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new SabreTypeError(`--split must be a fraction in (0, 1) or a row count, got ${JSON.stringify(v)}`);
  return n;
}

export async function preprocessCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      scale: { type: "string" },
      impute: { type: "string" },
      "one-hot": { type: "string" },
      bins: { type: "string" },
      split: { type: "string" },
      seed: { type: "string" },
      target: { type: "string" },
      save: { type: "string" },
      threads: { type: "string" },
    },
  });
  const [file, extra] = positionals;
  if (!file || values.out === undefined || extra !== undefined) {
    process.stderr.write(PREPROCESS_USAGE);
    return 2;
  }
  const out = values.out;
  const seed = count("seed", values.seed, 0);
  const threads = count("threads", values.threads, 1);
  const testSize = values.split === undefined ? undefined : splitSize(values.split);
  if (seed !== undefined && testSize === undefined) throw new SabreTypeError("--seed is for --split; give --split too");
  const bar = new ProgressBar("preprocess", 4);
  const table = await readTable(file, values.target);
  bar.update(1);
  const oneHot = values["one-hot"] === undefined ? [] : resolveColumns(values["one-hot"], table.columns);
  const pipe = buildPipeline(values, table.X.shape[1]!, oneHot);
  if (values.save !== undefined && pipe === null) throw new SabreTypeError("--save: there is no pipeline to save (give --impute, --scale, --bins or --one-hot)");
  const engine = await Engine.start(threads === undefined ? {} : { threads });
  try {
    let y: NdArray | undefined;
    let classes: Array<string | number> | undefined;
    if (table.y !== undefined) {
      if (typeof table.y[0] === "string") {
        const le = new LabelEncoder();
        y = await le.fitTransform(table.y);
        classes = le.classes;
      } else y = shared.from(table.y as number[]);
    }
    const written: string[] = [];
    const transform = async (X: NdArray, fit: boolean): Promise<NdArray> =>
      pipe === null ? X : fit ? await pipe.fitTransform(X, { engine }) : await pipe.transform(X, { engine });
    if (testSize === undefined) {
      const Xt = await transform(table.X, true);
      bar.update(2);
      await writeNpy(out, Xt);
      written.push(`${out} [${Xt.shape.join(", ")}]`);
      if (y) {
        await writeNpy(named(out, "y"), y);
        written.push(`${named(out, "y")} [${y.shape.join(", ")}]`);
      }
    } else {
      const integral = y !== undefined && (classes !== undefined || (table.y as number[]).every((v) => Number.isInteger(v)));
      const parts = await trainTestSplit(table.X, ...(y ? [y] : []), {
        testSize,
        ...(seed === undefined ? {} : { seed }),
        ...(integral ? { stratify: y! } : {}),
        engine,
      });
      const [xTr, xTe, yTr, yTe] = parts as [NdArray, NdArray, NdArray?, NdArray?];
      const tTr = await transform(xTr, true);
      const tTe = await transform(xTe, false);
      bar.update(2);
      const files: Array<[string, NdArray]> = [[named(out, "train"), tTr], [named(out, "test"), tTe]];
      if (yTr && yTe) files.push([named(out, "y-train"), yTr], [named(out, "y-test"), yTe]);
      for (const [path, arr] of files) {
        await writeNpy(path, arr);
        written.push(`${path} [${arr.shape.join(", ")}]`);
      }
    }
    bar.update(3);
    if (values.save !== undefined && pipe !== null) {
      const json = { ...pipe.toJSON(), ...(classes ? { targetClasses: classes } : {}) };
      await writeFile(values.save, JSON.stringify(json));
      written.push(`${values.save} (pipeline)`);
    }
    const secs = bar.done();
    console.log(`preprocessed ${table.X.shape[0]} rows x ${table.X.shape[1]} columns in ${secs.toFixed(2)} s`);
    if (classes) console.log(`target classes (codes 0..${classes.length - 1}): ${JSON.stringify(classes)}`);
    for (const w of written) console.log(`wrote ${w}`);
    return 0;
  } finally {
    await engine.close();
  }
}
