export * from "./queue.js";
