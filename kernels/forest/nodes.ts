/** A task's nodes while it grows: growable arrays, copied into the slot's node area when the task is done (fragments.ts). */
export class Nodes {
  cap = 0;
  count = 0;
  feature = new Int32Array(0);
  threshold = new Float64Array(0);
  left = new Int32Array(0);
  right = new Int32Array(0);
  value = new Float64Array(0);
  nSamples = new Int32Array(0);
  weight = new Float64Array(0);
  impurity = new Float64Array(0);
  constructor(readonly nOutputs: number) {}

  reset(): void {
    this.count = 0;
  }

  add(parent: number, isLeft: boolean): number {
    if (this.count === this.cap) this.grow();
    const id = this.count++;
    this.feature[id] = -1;
    this.threshold[id] = 0;
    this.left[id] = -1;
    this.right[id] = -1;
    if (parent >= 0) {
      if (isLeft) this.left[parent] = id;
      else this.right[parent] = id;
    }
    return id;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g = <T extends Int32Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature, cap);
    this.threshold = g(this.threshold, cap);
    this.left = g(this.left, cap);
    this.right = g(this.right, cap);
    this.value = g(this.value, cap * this.nOutputs);
    this.nSamples = g(this.nSamples, cap);
    this.weight = g(this.weight, cap);
    this.impurity = g(this.impurity, cap);
    this.cap = cap;
  }
}
