// Cluster over BullMQ on Redis (issue 13). The Engine never imports this folder.
export {};
