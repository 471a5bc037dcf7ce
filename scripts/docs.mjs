#!/usr/bin/env node
// The API reference: typedoc with typedoc-plugin-markdown turns the doc
// comments of the two entry points (`sabre` = src/index.ts, `sabre/worker` =
// src/worker.ts; options in typedoc.json) into docs/api, entry page
// docs/api/README.md. Any typedoc warning (an undocumented export, a broken
// link, an unresolved {@link}) fails the run.
//
//   node scripts/docs.mjs           regenerate docs/api (npm run docs)
//   node scripts/docs.mjs --check   generate into a temporary folder and fail
//                                   when docs/api differs (a step of npm test)
//
// Sources are not linked ("disableSources"): line numbers would make docs/api
// stale at every code edit; it changes only when the API or its comments do.
import { register } from "node:module";
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const committed = join(root, "docs/api");
const check = process.argv.includes("--check");
process.chdir(root);

// The project compiles with TypeScript 7 (the native port), whose package has
// no JS compiler API; typedoc needs that API (TypeScript 5.0-6.0). The
// devDependency `typescript-api` is TypeScript 6.0 under another name, and
// this resolve hook sends every `typescript` import made while typedoc runs
// to it. (typedoc's own `require.resolve("typescript")` only feeds a log line.)
const hook = `export async function resolve(specifier, context, next) {
  if (specifier === "typescript" || specifier.startsWith("typescript/"))
    return next("typescript-api" + specifier.slice("typescript".length), context);
  return next(specifier, context);
}`;
register("data:text/javascript," + encodeURIComponent(hook));

const { Application, TSConfigReader, TypeDocReader } = await import("typedoc");
const out = check ? mkdtempSync(join(tmpdir(), "sabre-docs-")) : committed;

process.exitCode = await generate().finally(() => {
  if (check) rmSync(out, { recursive: true, force: true });
});

async function generate() {
  const app = await Application.bootstrapWithPlugins(
    { out, logLevel: check ? "Warn" : "Info" },
    [new TypeDocReader(), new TSConfigReader()],
  );
  const project = await app.convert();
  if (project) {
    app.validate(project);
    // Written even with warnings, so the output can be looked at; the exit code still fails.
    if (!app.logger.hasErrors()) await app.generateOutputs(project);
  }
  const { errorCount, warningCount } = app.logger;
  if (!project || errorCount + warningCount > 0) {
    console.error(`docs: typedoc reported ${errorCount} error(s) and ${warningCount} warning(s); the API reference must build without any`);
    return 1;
  }
  if (!check) return 0;
  const diff = compareTrees(committed, out);
  if (diff.length > 0) {
    console.error("docs/api is stale: run npm run docs");
    for (const line of diff.slice(0, 10)) console.error(`  ${line}`);
    if (diff.length > 10) console.error(`  ... and ${diff.length - 10} more`);
    return 1;
  }
  console.log("docs: docs/api is up to date, no typedoc warnings");
  return 0;
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const files = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files.sort();
}

// Lines naming each file that is missing, extra or different in `expected` (the committed docs).
function compareTrees(expected, actual) {
  const want = new Set(listFiles(expected));
  const got = new Set(listFiles(actual));
  const diff = [];
  for (const f of got) {
    if (!want.has(f)) diff.push(`missing from docs/api: ${f}`);
    else if (!readFileSync(join(expected, f)).equals(readFileSync(join(actual, f)))) diff.push(`differs: ${f}`);
  }
  for (const f of want) if (!got.has(f)) diff.push(`no longer generated: ${f}`);
  return diff;
}
