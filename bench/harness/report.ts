import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatRatio, formatValue } from "./format.js";
import { currentLoad, describeMachine, type Machine } from "./machine.js";
import type { Outcome } from "./measure.js";
import { resultsDir } from "./paths.js";
import { barChart } from "./svg.js";
import { markdownTable, textTable, type Align } from "./table.js";

/**
 * A benchmark's results: groups of rows measured in the same run, each row a
 * median with its spread and its ratio against the group's reference row (a
 * peer or a machine limit measured in that same run), plus pass/fail targets.
 *
 *   const report = new Report("sync", "Synchronization primitives", machineInfo());
 *   report.addGroup({ id: "unc", title: "uncontended lock+unlock", unit: "ns/op", better: "lower",
 *     reference: "floor", entries: [{ id: "floor", label: "JS floor" }, { id: "sabre", label: "sabre Mutex" }],
 *     outcomes });
 *   report.addTarget("sabre within 1.5x of the JS floor", report.ratio("unc", "sabre"), (r) => r <= 1.5);
 *   console.log(report.terminal());
 *   report.write();   // bench/results/sync.md (+ sync.svg)
 */

export interface Entry {
  readonly id: string;
  readonly label: string;
  /** Drawn highlighted in charts (the project's own rows). */
  readonly ours?: boolean;
  readonly note?: string;
}

export interface Group {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: "lower" | "higher";
  /** The entry id every ratio in this group is taken against. */
  readonly reference: string;
  readonly entries: readonly Entry[];
  readonly outcomes: ReadonlyMap<string, Outcome>;
  /** How the figure was obtained (sizes, threads); printed under the group. */
  readonly method?: string;
}

export type Status = "pass" | "fail" | "not measured";

export interface Target {
  readonly text: string;
  readonly status: Status;
  readonly detail: string;
}

export class Report {
  readonly groups: Group[] = [];
  readonly targets: Target[] = [];
  readonly notes: string[] = [];

  constructor(
    readonly suite: string,
    readonly title: string,
    readonly machine: Machine,
  ) {}

  addGroup(group: Group): void {
    if (!group.entries.some((e) => e.id === group.reference)) {
      throw new Error(`group ${group.id}: its reference ${group.reference} is not one of its entries`);
    }
    this.groups.push(group);
  }

  group(id: string): Group {
    const g = this.groups.find((x) => x.id === id);
    if (!g) throw new Error(`no group ${id} in this report`);
    return g;
  }

  /** The median of a row, or undefined if it was skipped or failed. */
  median(groupId: string, entryId: string): number | undefined {
    const o = this.group(groupId).outcomes.get(entryId);
    return o?.kind === "ok" ? o.stats.median : undefined;
  }

  /** A row's median divided by its group's reference median (same run). */
  ratio(groupId: string, entryId: string, against?: string): number | undefined {
    const g = this.group(groupId);
    const a = this.median(groupId, entryId);
    const b = this.median(groupId, against ?? g.reference);
    return a === undefined || b === undefined ? undefined : a / b;
  }

  /** Records a target; `value` undefined (a row missing) makes it "not measured", never a pass. */
  addTarget(text: string, value: number | undefined, passes: (v: number) => boolean, show: (v: number) => string = formatRatio): void {
    if (value === undefined) {
      this.targets.push({ text, status: "not measured", detail: "a row it needs was skipped or failed" });
    } else {
      this.targets.push({ text, status: passes(value) ? "pass" : "fail", detail: show(value) });
    }
  }

  private finalLoad: number | undefined;

  /** The load when the report was first rendered (the end of the run). */
  private endLoad(): number {
    return (this.finalLoad ??= currentLoad());
  }

  addNote(note: string): void {
    this.notes.push(note);
  }

  private rows(g: Group): string[][] {
    return g.entries.map((e) => {
      const o = g.outcomes.get(e.id);
      const label = e.id === g.reference ? `${e.label} (reference)` : e.label;
      if (!o) return [label, "not run", "", "", "", e.note ?? ""];
      if (o.kind === "skipped") return [label, "skipped", "", "", "", o.hint];
      if (o.kind === "failed") return [label, "FAILED", "", "", "", o.message];
      const s = o.stats;
      const r = this.ratio(g.id, e.id);
      return [
        label,
        formatValue(s.median, g.unit),
        `${formatValue(s.q1, g.unit)} – ${formatValue(s.q3, g.unit)}`,
        `${formatValue(s.min, g.unit)} – ${formatValue(s.max, g.unit)}`,
        r === undefined ? "n/a (no reference)" : formatRatio(r),
        e.note ?? "",
      ];
    });
  }

  private headers(g: Group): string[] {
    return ["", `median ${g.unit}`, "IQR", "min – max", "vs reference", "note"];
  }

  private static readonly ALIGN: Align[] = ["left", "right", "right", "right", "right", "left"];

  terminal(): string {
    const out: string[] = [`${this.title} — ${describeMachine(this.machine)}`];
    const warning = busy(this.machine, this.endLoad());
    if (warning) out.push(`WARNING${warning}`);
    out.push("");
    for (const g of this.groups) {
      out.push(`${g.title} (${g.better} is better)`);
      out.push(textTable(this.headers(g), this.rows(g), Report.ALIGN));
      out.push("");
    }
    if (this.targets.length > 0) {
      out.push("Targets");
      out.push(
        textTable(
          ["target", "status", "measured"],
          this.targets.map((t) => [t.text, t.status.toUpperCase(), t.detail]),
        ),
      );
    }
    return out.join("\n");
  }

  markdown(chart?: string): string {
    const m = this.machine;
    const out: string[] = [
      `# ${this.title}`,
      "",
      `Generated by \`${this.command ?? `npm run bench ${this.suite}`}\`; do not edit by hand.`,
      "",
      `- Machine: ${m.cores} cores (os.availableParallelism()), ${m.cpu}, ${m.memoryGiB} GiB`,
      `- Node ${m.node}, ${m.os}`,
      `- Date: ${m.date}`,
      `- Memory pages: ${m.glibcTunables.includes("hugetlb=1") ? "GLIBC_TUNABLES=glibc.malloc.hugetlb=1 (set by \`npm run bench\`: large buffers on transparent huge pages, as numpy asks for its own)" : "GLIBC_TUNABLES not set (4 KiB pages for fresh buffers)"}`,
      `- Load average (1 min): ${m.load.toFixed(2)} at the start, ${this.endLoad().toFixed(2)} at the end${busy(m, this.endLoad())}`,
      "",
      "Every figure is the median of several runs taken in this one run, with its",
      "interquartile range and min – max; every ratio is against the group's",
      "reference row measured in the same run.",
      "",
    ];
    if (this.targets.length > 0) {
      out.push("## Targets", "");
      out.push(
        markdownTable(
          ["target", "status", "measured"],
          this.targets.map((t) => [t.text, t.status === "pass" ? "PASS" : t.status === "fail" ? "**FAIL**" : t.status, t.detail]),
        ),
        "",
      );
    }
    for (const g of this.groups) {
      out.push(`## ${g.title}`, "", `${g.unit}, ${g.better} is better.${g.method ? " " + g.method : ""}`, "");
      out.push(markdownTable(this.headers(g), this.rows(g), Report.ALIGN), "");
    }
    if (chart) out.push("## Chart", "", `![${this.title}](${chart})`, "");
    if (this.notes.length > 0) {
      out.push("## Notes", "", ...this.notes.map((n) => `- ${n}`), "");
    }
    return out.join("\n");
  }

  /** One panel per group: each row's median (log scale) with its min – max whisker. */
  svg(): string {
    return barChart(
      this.title,
      this.groups.map((g) => ({
        title: `${g.title} (${g.unit}, ${g.better} is better)`,
        unit: g.unit,
        bars: g.entries.flatMap((e) => {
          const o = g.outcomes.get(e.id);
          if (o?.kind !== "ok") return [];
          const r = this.ratio(g.id, e.id);
          return [
            {
              label: e.label,
              value: o.stats.median,
              low: o.stats.min,
              high: o.stats.max,
              ours: e.ours ?? false,
              caption: `${formatValue(o.stats.median, g.unit)}${r === undefined || e.id === g.reference ? "" : ` (${formatRatio(r)})`}`,
            },
          ];
        }),
      })),
    );
  }

  /** Writes bench/results/<suite>.md and, with `chart`, <suite>.svg beside it. Returns the paths written. */
  /**
   * Writes bench/results/<name>.md (+ .svg). `name` defaults to the suite;
   * a run of some parts (`--only`) names its own file, so it never replaces
   * the full run's, and `command` is what its header says generated it.
   */
  write(options: { chart?: boolean; name?: string; command?: string } = {}): string[] {
    const dir = resultsDir();
    const name = options.name ?? this.suite;
    if (options.command !== undefined) this.command = options.command;
    const written: string[] = [];
    let chartName: string | undefined;
    if (options.chart) {
      chartName = `${name}.svg`;
      writeFileSync(join(dir, chartName), this.svg());
      written.push(join(dir, chartName));
    }
    writeFileSync(join(dir, `${name}.md`), this.markdown(chartName));
    written.unshift(join(dir, `${name}.md`));
    return written;
  }

  /** The command the Markdown header names. */
  private command: string | undefined;
}

/** A warning when other work shared the cores during the run. */
function busy(m: Machine, endLoad: number): string {
  const load = Math.max(m.load, endLoad);
  return load > m.cores * 0.75
    ? ` (busy: other processes shared the ${m.cores} cores, so figures are noisier than on an idle machine)`
    : "";
}
