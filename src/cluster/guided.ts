// Guided job sizes for a forest fit over hosts (OpenMP's schedule(guided)).
import { SabreTypeError } from "../errors.js";

/**
 * How many trees each grow job takes, in queue order: each job about
 * 1/(2H) of the trees still unassigned, never fewer than one. The first
 * jobs are large (few round trips, trees checked in big batches while the
 * hosts keep growing), the last ones small, so the final wave, where some
 * hosts idle while the others finish, is about one tree long rather than a
 * quarter of a host's share (fixed jobs of ceil(trees / 4H) left hosts idle
 * for up to that long). Which tree a job grows never changes the tree (tree
 * i depends only on (seed, i)), so the fit stays bit-identical.
 * 100 trees on 2 hosts: 25 19 14 11 8 6 5 3 3 2 1 1 1 1 (14 jobs).
 */
export function guidedJobSizes(trees: number, hosts: number): number[] {
  if (!Number.isInteger(trees) || trees < 0) throw new SabreTypeError(`trees must be an integer >= 0, got ${trees}`);
  const H = Math.max(1, Math.floor(hosts));
  const sizes: number[] = [];
  for (let left = trees; left > 0; ) {
    const size = Math.max(1, Math.ceil(left / (2 * H)));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}
