// The piscina peer of the dispatch benchmark: a task module whose task does nothing.
export default function noop(): void {}
