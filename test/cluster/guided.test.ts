// Guided job sizes of a forest fit over hosts (src/cluster/guided.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { SabreTypeError } from "../../src/errors.js";
import { guidedJobSizes } from "../../src/cluster/guided.js";
import { throwsTyped } from "../helpers.js";

test("every tree is in exactly one job, jobs shrink to one tree, each about 1/(2H) of what is left", () => {
  for (let trees = 0; trees <= 300; trees += trees < 40 ? 1 : 13) {
    for (const hosts of [1, 2, 3, 5, 8, 32, 100]) {
      const sizes = guidedJobSizes(trees, hosts);
      // Jobs are ranges [first, first + size) laid end to end: covering 0..trees-1 once means they sum to trees.
      const seen = new Uint8Array(trees);
      let first = 0;
      for (const size of sizes) {
        assert.ok(Number.isInteger(size) && size >= 1, `${trees}/${hosts}: size ${size}`);
        for (let k = first; k < first + size; k++) seen[k]!++;
        first += size;
      }
      assert.is(first, trees, `${trees} trees on ${hosts} hosts: ${sizes.join(" ")}`);
      assert.ok(seen.every((c) => c === 1));
      let left = trees;
      for (let j = 0; j < sizes.length; j++) {
        assert.is(sizes[j], Math.max(1, Math.ceil(left / (2 * hosts))), `${trees}/${hosts} job ${j}`);
        if (j > 0) assert.ok(sizes[j]! <= sizes[j - 1]!, "sizes never grow");
        left -= sizes[j]!;
      }
      if (trees >= 2 * hosts) assert.is(sizes[sizes.length - 1], 1, `${trees}/${hosts}: the last job is one tree`);
    }
  }
  assert.equal(guidedJobSizes(100, 2), [25, 19, 14, 11, 8, 6, 5, 3, 3, 2, 1, 1, 1, 1]);
  assert.equal(guidedJobSizes(3, 0), [2, 1], "no host seen yet counts as one");
  throwsTyped(() => guidedJobSizes(-1, 2), SabreTypeError, /trees/);
  throwsTyped(() => guidedJobSizes(1.5, 2), SabreTypeError, /trees/);
});

test.run();
