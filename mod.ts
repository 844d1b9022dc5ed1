// denograd's public API: a functional autograd over Float64 matrices, optimizers, a data-parallel
// trainer and the pulsar experiment as library functions.

// Ground floor: the matrix every module works on and the seeded RNG every draw comes from.
export {
  Matrix,
  type MatrixOptions,
  type RandomNormalOptions,
  type RandomUniformOptions,
  type SharedMatrixHandle,
} from "./lib/matrix.ts";
export {
  createRng,
  type Rng,
  type RngState,
  sampleWithoutReplacement,
  shuffle,
} from "./lib/random.ts";

// Autograd: traced values, the ops (each primitive with its VJP and JVP), and new primitives.
export { type Tensor, Traced, type Value } from "./lib/autograd/tracer.ts";
export {
  abs,
  add,
  argmax,
  argmin,
  broadcastTo,
  cholesky,
  clip,
  concat,
  type ConcatOptions,
  cos,
  det,
  div,
  equal,
  exp,
  gatherRows,
  greater,
  inv,
  less,
  log,
  logdet,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  neg,
  pow,
  type ReduceOptions,
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
  square,
  stopGradient,
  sub,
  sum,
  tanh,
  transpose,
  where,
} from "./lib/autograd/ops.ts";
export { definePrimitive, type PrimitiveDefinition } from "./lib/autograd/primitive.ts";

// Transforms: gradients, Jacobians, Hessians, trees as vectors, jit, graphs, gradient checks.
export { type Grad, grad, jvp, type Tree, valueAndGrad, vjp } from "./lib/autograd/transforms.ts";
export { elementwiseGrad, hessian, hvp, jacfwd, jacobian } from "./lib/autograd/jacobians.ts";
export { type MayBeTraced, ravel, type Raveled, type Unravel } from "./lib/autograd/ravel.ts";
export { jit, type JitCache, type Jitted, MAX_PLANS } from "./lib/autograd/jit.ts";
export { type PlanSize } from "./lib/autograd/_plan.ts";
export { toDot } from "./lib/autograd/graph.ts";
export { checkGrads, type CheckGradsOptions } from "./lib/autograd/check.ts";

// Neural nets: the MLP, losses, metrics and the model file.
export { initMLP, type InitOptions, mlpForward, mseLoss } from "./lib/nn/mlp.ts";
export {
  type CrossEntropyOptions,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
} from "./lib/nn/losses.ts";
export {
  averagePrecision,
  type BinaryMetrics,
  binaryMetrics,
  type ClassificationMetrics,
  classificationMetrics,
  type Curve,
  type PerClass,
  precisionRecallCurve,
  predictClasses,
  rocAuc,
  rocCurve,
} from "./lib/nn/metrics.ts";
export {
  type InputScaling,
  parseModel,
  type SavedModel,
  serializeModel,
} from "./lib/nn/model_io.ts";

// Optimization: Optax-shaped optimizers, learning-rate schedules, full-batch minimize.
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

// Data: CSV loading and streaming, the HTRU2 download, splits, folds and scaling.
export {
  type CsvBatch,
  DataError,
  type LabeledData,
  type LoadCsvOptions,
  loadLabeledCsv,
  oneHot,
  type ParseCsvOptions,
  parseLabeledCsv,
  readCsvRows,
  type ReadCsvRowsOptions,
} from "./lib/data/csv.ts";
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
  fitStandardizer,
  type FitStandardizerOptions,
  type Split,
  standardize,
  type Standardizer,
  stratifiedSplit,
  takeRows,
} from "./lib/data/preprocess.ts";
export { stratifiedFolds } from "./lib/data/folds.ts";

// Training: the data-parallel trainer.
export {
  type CheckpointOptions,
  type LossEntry,
  type Sampling,
  train,
  type TrainOptions,
  type TrainResult,
  type ValidationOptions,
} from "./lib/train/train.ts";

// Experiments: the pulsar experiment, cross-validation, scoring new rows with a saved model.
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
