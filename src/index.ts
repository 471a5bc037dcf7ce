// `sabre`: the main-thread API.
export * from "./worker.js";
