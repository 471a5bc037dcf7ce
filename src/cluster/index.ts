// Cluster over BullMQ on Redis (issue 13; README.md here). The Engine never imports this folder.
export { Cluster, type ClusterOptions, type ClusterParallelForOptions } from "./cluster.js";
export { ClusterHost, type HostOptions } from "./host.js";
export type { HostInfo } from "./protocol.js";
export { ClusterFile, type FileFormat } from "./file-ref.js";
// The forests' side of the seam (they take any ForestCluster; Cluster is one).
export type { ForestCluster, ForestGrowData } from "../ml/forest/remote.js";
export type { PredictOptions } from "../ml/forest/base.js";
