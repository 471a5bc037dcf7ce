import type { Report } from "./report.js";

/** What `bench/run.ts` hands a suite. */
export interface SuiteOptions {
  /** Fewer rounds and shorter samples: a smoke test of the suite, not a result (nothing is written). */
  readonly quick: boolean;
  /** Progress lines (to stderr, so stdout keeps only the table). */
  readonly log: (line: string) => void;
  /** `--only a,b`: run only these parts of the suite (names the suite lists; a suite without parts runs whole). */
  readonly only?: readonly string[];
}

/** A suite module's default export: measures everything and returns its report (run.ts prints and writes it). */
export type Suite = (options: SuiteOptions) => Promise<Report>;
