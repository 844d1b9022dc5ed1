// denograd's public API: a functional autograd over shared Float64 matrices, and its trainer.

export { Matrix, type MatrixOptions, type SharedMatrixHandle } from "./lib/matrix.ts";
export { type RandomNormalOptions, type RandomUniformOptions } from "./lib/matrix.ts";
export { type Tensor, Traced, type Value } from "./lib/autograd/tracer.ts";
export {
  add,
  broadcastTo,
  div,
  exp,
  log,
  matmul,
  mean,
  mul,
  neg,
  pow,
  type ReduceOptions,
  square,
  sub,
  sum,
  tanh,
  transpose,
} from "./lib/autograd/ops.ts";
export {
  abs,
  argmax,
  argmin,
  cholesky,
  clip,
  concat,
  type ConcatOptions,
  cos,
  det,
  equal,
  gatherRows,
  greater,
  inv,
  less,
  logdet,
  logSoftmax,
  logsumexp,
  max,
  maximum,
  min,
  minimum,
  relu,
  reshape,
  sigmoid,
  sin,
  slice,
  type SliceOptions,
  softmax,
  type SoftmaxOptions,
  softplus,
  solve,
  solveTriangular,
  type SolveTriangularOptions,
  sqrt,
  stopGradient,
  where,
} from "./lib/autograd/ops.ts";
export { type Grad, grad, jvp, type Tree, valueAndGrad, vjp } from "./lib/autograd/transforms.ts";
export { jit, type JitCache, type Jitted, MAX_PLANS } from "./lib/autograd/jit.ts";
export { type PlanSize } from "./lib/autograd/_plan.ts";
export { toDot } from "./lib/autograd/graph.ts";
export { createRng, type Rng, type RngState, sampleWithoutReplacement } from "./lib/random.ts";
export { initMLP, type InitOptions, mlpForward, mseLoss } from "./lib/nn/mlp.ts";
export {
  type CrossEntropyOptions,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
} from "./lib/nn/losses.ts";
export {
  type ClassificationMetrics,
  classificationMetrics,
  type PerClass,
  predictClasses,
} from "./lib/nn/metrics.ts";
export {
  averagePrecision,
  type BinaryMetrics,
  binaryMetrics,
  type Curve,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
} from "./lib/nn/metrics.ts";
export {
  type InputScaling,
  parseModel,
  type SavedModel,
  serializeModel,
} from "./lib/nn/model_io.ts";
export {
  fitStandardizer,
  type FitStandardizerOptions,
  type Split,
  standardize,
  type Standardizer,
  stratifiedSplit,
  takeRows,
} from "./lib/data/preprocess.ts";
export { stratifiedFolds } from "./lib/data/folds.ts";
export {
  ConfigError,
  type DataSummary,
  type Evaluation,
  EXPERIMENT_DEFAULTS,
  type ExperimentConfig,
  type ExperimentOptions,
  type ExperimentResult,
  experimentVersions,
  LR_SCHEDULES,
  type LrScheduleName,
  type OptimizerName,
  OPTIMIZERS,
  RNG_NAME,
  runExperiment,
  type TrainMetrics,
} from "./lib/experiment.ts";
export {
  type CheckpointOptions,
  type LossEntry,
  type Sampling,
  train,
  type TrainOptions,
  type TrainResult,
  type ValidationOptions,
} from "./lib/train/train.ts";
export {
  crossValidate,
  CV_DEFAULTS,
  type CvConfig,
  type CvCurves,
  type CvFold,
  type CvModelResult,
  type CvOptions,
  type CvProgress,
  type CvResult,
  type CvSummary,
  type FoldMetrics,
  type MeanSd,
  MODEL_NAMES,
  MODEL_SETTINGS,
  type ModelName,
  summarizeFolds,
  SUMMARY_METRICS,
  type SummaryMetric,
  trainPractitionerModel,
} from "./lib/experiment/cv.ts";
export {
  parseScoringModel,
  predictCsv,
  type PredictCsvOptions,
  type PredictSummary,
  type ScoringModel,
  serializeScoringModel,
} from "./lib/experiment/predict.ts";
export {
  DataError,
  type LabeledData,
  type LoadCsvOptions,
  loadLabeledCsv,
  oneHot,
  type ParseCsvOptions,
  parseLabeledCsv,
} from "./lib/data/csv.ts";
export { type CsvBatch, readCsvRows, type ReadCsvRowsOptions } from "./lib/data/csv.ts";
export {
  type DownloadOptions,
  DownloadTimeoutError,
  ensurePulsarData,
  type EnsurePulsarDataOptions,
  HTRU2_URL,
  type ProgressCallback,
  PULSAR_COLUMNS,
} from "./lib/data/htru2.ts";
export {
  adam,
  type AdamOptions,
  adamw,
  type AdamWOptions,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  type Optimizer,
  type OptimizerState,
  rmsprop,
  type RmspropOptions,
  sgd,
  type SgdOptions,
  type Stage,
  type StepContext,
} from "./lib/optim/optimizers.ts";
export {
  constantSchedule,
  cosineDecay,
  type CosineDecayOptions,
  exponentialDecay,
  type ExponentialDecayOptions,
  joinSchedules,
  type LearningRate,
  linearWarmup,
  type LinearWarmupOptions,
  type Schedule,
} from "./lib/optim/schedules.ts";
export { minimize, type MinimizeOptions, type MinimizeResult } from "./lib/optim/minimize.ts";
export { elementwiseGrad, hessian, hvp, jacfwd, jacobian } from "./lib/autograd/jacobians.ts";
export { type MayBeTraced, ravel, type Raveled, type Unravel } from "./lib/autograd/ravel.ts";
export { checkGrads, type CheckGradsOptions } from "./lib/autograd/check.ts";
export { definePrimitive, type PrimitiveDefinition } from "./lib/autograd/primitive.ts";
