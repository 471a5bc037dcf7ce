#!/usr/bin/env node
// Skeleton: the API reference generator (typedoc into docs/api). `--check`
// is the step `npm test` runs. Filled in by the docs work (issue 14).
console.log("docs: not built yet");
