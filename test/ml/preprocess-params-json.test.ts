// A saved preprocessing model whose params were nulled is a FormatError naming the param:
// the constructors read null as "use the default", so it loaded as another model.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FormatError, KBinsDiscretizer, MinMaxScaler, OneHotEncoder, RobustScaler, SimpleImputer, StandardScaler } from "sabre";
import { throwsTyped } from "../helpers.js";

test("fromJSON refuses a null param that toJSON never writes (featureRange null loaded as [0, 1])", () => {
  const cases = [
    [MinMaxScaler, new MinMaxScaler({ featureRange: [-1, 1] }), "featureRange"],
    [RobustScaler, new RobustScaler({ quantileRange: [10, 90] }), "quantileRange"],
    [SimpleImputer, new SimpleImputer({ strategy: "median" }), "strategy"],
    [KBinsDiscretizer, new KBinsDiscretizer({ nBins: 3 }), "nBins"],
    [KBinsDiscretizer, new KBinsDiscretizer({ nBins: 3, encode: "ordinal" }), "encode"],
    [OneHotEncoder, new OneHotEncoder({ handleUnknown: "ignore" }), "handleUnknown"],
    [OneHotEncoder, new OneHotEncoder({ dtype: "float32" }), "dtype"],
    [StandardScaler, new StandardScaler({ withMean: false }), "withMean"],
  ] as const;
  for (const [cls, model, key] of cases) {
    const saved = model.toJSON();
    const tampered = { ...saved, params: { ...saved.params, [key]: null } };
    const err = throwsTyped(
      () => (cls.fromJSON as (o: unknown) => unknown)(tampered),
      FormatError,
      new RegExp(`${cls.name}\\.fromJSON: params\\.${key} is null; a saved ${cls.name} has a value there`),
    );
    assert.is(err.code, "ERR_SABRE_FORMAT");
    assert.ok((cls.fromJSON as (o: unknown) => unknown)(saved) instanceof cls);
  }
  // Where null is a value (sklearn's None), it still loads: OneHotEncoder's drop, KBinsDiscretizer's dtype.
  assert.is(OneHotEncoder.fromJSON(new OneHotEncoder().toJSON()).drop, null);
  assert.is(KBinsDiscretizer.fromJSON(new KBinsDiscretizer({ nBins: 2 }).toJSON()).dtype, null);
});

test.run();
