// The threads.js peer of the dispatch benchmark: a worker exposing one empty
// function, called through spawn() and through a Pool. Its cost is all
// threads.js's own message protocol.
import { expose } from "threads/worker";

expose({
  noop(): void {},
});
