#!/usr/bin/env node
// Skeleton: packs sabre with `npm pack`, installs the tarball into a fresh
// temporary project and runs an ESM script and a type-checked TypeScript file
// there. Filled in by the packed-package work (issue 14).
console.log("pack-check: not built yet");
