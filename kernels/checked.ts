// Checked mode (Engine.start({ checked: true })): the data-sharing clauses become
// enforced. A readOnly array's data refuses every write; a rows() view refuses
// writes outside the chunk's rows. Both raise RaceError naming the kernel, the
// argument and the index. It costs a Proxy on every element access: a
// debugging mode, not a production one.
import { RaceError } from "../src/errors.js";
import { ndarray, type NdArray } from "../src/memory/ndarray-type.js";
import type { TypedArray } from "../src/memory/dtypes.js";

/** Which kernel is running: read when an error is raised, so one wrapper serves every call. */
export const current = { kernel: "" };

const MUTATORS = new Set(["set", "fill", "copyWithin", "sort", "reverse"]);

function isIndex(prop: string | symbol): prop is string {
  return typeof prop === "string" && prop.length > 0 && prop.length < 11 && /^\d+$/.test(prop);
}

/**
 * A typed array stand-in that forwards reads and lets writes through only
 * where `allowed(index)` says so.
 */
function guardData<T extends TypedArray>(data: T, argName: string, allowed: (i: number) => boolean, why: string): T {
  return new Proxy(data, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      if (MUTATORS.has(prop as string)) {
        return () => {
          throw new RaceError(`kernel "${current.kernel}" called ${String(prop)}() on ${argName}, which is ${why}`);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
    set(target, prop, value) {
      if (isIndex(prop)) {
        const i = Number(prop);
        if (!allowed(i)) {
          throw new RaceError(`kernel "${current.kernel}" wrote ${argName}.data[${i}], which is ${why}`);
        }
      }
      return Reflect.set(target, prop, value, target);
    },
  });
}

/** A view whose every write throws RaceError. */
export function checkedReadOnly(array: NdArray, argName: string): NdArray {
  const data = guardData(array.data, argName, () => false, "readOnly");
  return ndarray(data, array.shape, array.stride, array.offset);
}

/** The rows [start, end) of `array` as a view that refuses writes to any other row. */
export function checkedRows(array: NdArray, argName: string, start: number, end: number): NdArray {
  const view = array.hi(end).lo(start);
  // The data indices rows start..end-1 may touch, whatever the inner strides.
  let lo = view.offset;
  let hi = view.offset;
  if (view.shape.every((d) => d > 0)) {
    for (let ax = 0; ax < view.shape.length; ax++) {
      const span = view.stride[ax]! * (view.shape[ax]! - 1);
      if (span < 0) lo += span;
      else hi += span;
    }
  } else {
    hi = lo - 1;
  }
  const data = guardData(array.data, argName, (i) => i >= lo && i <= hi, `outside this chunk's rows [${start}, ${end})`);
  return ndarray(data, view.shape, view.stride, view.offset);
}
