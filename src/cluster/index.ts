// Cluster over BullMQ on Redis (issue 13; README.md here). The Engine never imports this folder.
export { Cluster, type ClusterOptions, type ClusterParallelForOptions } from "./cluster.js";
export { ClusterHost, type HostOptions } from "./host.js";
export type { HostInfo } from "./protocol.js";
