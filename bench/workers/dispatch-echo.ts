// The raw postMessage peer of the dispatch benchmark: sends every message
// straight back. No envelope, no ids: the least a message round trip can cost.
import { parentPort } from "node:worker_threads";

const port = parentPort;
if (!port) throw new Error("dispatch-echo must run in a worker thread");
port.on("message", (m: unknown) => port.postMessage(m));
