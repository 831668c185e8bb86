export {
  DEFAULT_FEATURIZER_SPEC,
  FeaturizerSpecError,
  HARDENED_FEATURIZER_SPEC,
  MAX_BUCKETS,
  parseFeaturizerSpec,
} from './featurizer-spec.js';
export type { FeaturizerSpec, NgramRange, NormalizationSpec } from './featurizer-spec.js';
export { cutText, foldConfusables, joinSpacedLetters, normalizeText } from './normalize.js';
export { featurize, featurizeBatch, featurizeChunks, type FeatureChunk } from './featurizer.js';
export type { FeatureBatch, FeaturizeBatchOptions, Features } from './featurizer.js';
export { assertValidWeights, forward, predict, randomWeights, softmax } from './fasttext.js';
export type { FastTextWeights, Prediction } from './fasttext.js';
export {
  exportedSignature,
  exportOnnx,
  ONNX_FORMAT,
  ONNX_INPUT_IDS,
  ONNX_INPUT_WEIGHTS,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  ONNX_OUTPUT,
  ONNX_PRODUCER,
} from './onnx-export.js';
export type { OnnxExportOptions } from './onnx-export.js';
export { onnxModelType } from './onnx-schema.js';
export { mulberry32 } from './rng.js';
export type { Rng } from './rng.js';
export * from './signature.js';
export {
  DEFAULT_HYPERPARAMETERS,
  HYPERPARAMETER_LIMITS,
  MIN_TRAINING_EXAMPLES,
  checkFeaturizerForTraining,
  checkTrainingData,
  checkTrainingSetup,
  validateHyperparameters,
} from './hyperparameters.js';
export type { Checked, DataCheck, TrainingDataSummary, TrainingHyperparameters, TrainingProblem } from './hyperparameters.js';
export { classMetrics, compareF1, evaluateClassification, evaluateIndices } from './evaluation.js';
export type { ClassificationMetrics, ClassMetrics, F1Comparison } from './evaluation.js';
export { POLL_EVERY_EXAMPLES, PackedExamplesBuilder, TrainingSession, packExamples, train } from './trainer.js';
export type {
  LabeledText,
  PackedExamples,
  TrainingHooks,
  TrainingInput,
  TrainingMetricName,
  TrainingMetricPoint,
  TrainingProgress,
  TrainingResult,
  TrainingStats,
} from './trainer.js';
