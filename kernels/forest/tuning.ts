// The forest core's internal knobs, in a module of their own so that every
// split search and the grower read the same object.

/**
 * Internal knobs, exported for the benchmark and the tests only. histMin:
 * nodes with more in-bag samples use histograms instead of per-bin lists.
 * rowMax: nodes with at most this many samples read the sample-major codes
 * (data.rowCodes) when given. subtract: sibling subtraction where it applies
 * (node-hist.ts); histBudgetMB: its buffers' memory per thread. taskMin:
 * a split with at least this many samples on both sides makes one child a
 * subtree task that another worker may grow (parallel.md); it shapes only
 * who grows what, so a fit passes its own value to every worker.
 * taskConsts: known-constant features a task carries (more: it finds them
 * again; same tree). tinyMax: gathered nodes with at most this many
 * samples sort them by code instead of walking per-bin lists
 * (split-tiny.ts; capped at TINY_LIMIT, 0 turns it off). binOneWorker:
 * tables of at most this many values (rows x features) are binned on one
 * worker in one call, larger ones in passes split over workers (the same
 * bins and codes either way). failAtTask (tests only): the fit's task number
 * failAtTask throws, number -failAtTask ends its worker thread; 0 never.
 * gatherMinFeatures: small nodes of tables with at least this many
 * features gather their drawn features' codes into a batch first
 * (split-gather.ts); narrower tables' nodes read each code in place from
 * its sample's row (the same codes in the same order: the same trees).
 */
export const forestTuning = { histMin: 2048, rowMax: 2048, subtract: true, histBudgetMB: 128, taskMin: 256, taskConsts: 256, failAtTask: 0, tinyMax: 8, binOneWorker: 1 << 20, gatherMinFeatures: 16 };
