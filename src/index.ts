// `sabre`: the main-thread API.
export * from "./worker.js";
export { readIdx, readIdxSync, parseIdx } from "./data/idx.js";
