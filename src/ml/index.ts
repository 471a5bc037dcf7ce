export { RandomForestClassifier } from "./forest/classifier.js";
export { RandomForestRegressor } from "./forest/regressor.js";
export type { ForestOptions, ClassifierOptions, RegressorOptions, FitOptions } from "./forest/options.js";
export type { ForestJSON } from "./forest/model-json.js";
export type { ClassLabel, Labels } from "./labels.js";
export * from "./preprocess/index.js";
