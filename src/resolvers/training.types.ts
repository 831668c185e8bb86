import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import { JobState } from './job-state.types.js';

@ObjectType({ description: 'One step of a training run.' })
export class TrainingStep {
  @Field(() => String, { description: 'validate, prepare, allocate, train, evaluate, register, compare or promote.' })
  name!: string;

  @Field(() => String, { description: 'RUNNING, SUCCEEDED, FAILED or SKIPPED.' })
  status!: string;

  @Field(() => Date)
  startedAt!: string;

  @Field(() => Date, { nullable: true })
  finishedAt!: string | null;

  @Field(() => String, { nullable: true, description: 'What happened, in a line.' })
  detail!: string | null;
}

@ObjectType({ description: 'One point of a run’s metric series, in the order the runner produced it.' })
export class MetricPoint {
  @Field(() => ID)
  runId!: string;

  @Field(() => Int, { description: '1, 2, 3… per run.' })
  seq!: number;

  @Field(() => String, { description: 'loss, train_accuracy, val_f1, val_accuracy, examples_per_second, or a runner’s own.' })
  name!: string;

  @Field(() => Float)
  value!: number;

  @Field(() => Int, { nullable: true })
  step!: number | null;

  @Field(() => Int, { nullable: true })
  epoch!: number | null;

  @Field(() => Date)
  at!: string;
}

@ObjectType()
export class TrainingLogLine {
  @Field(() => Int)
  seq!: number;

  @Field(() => String)
  level!: string;

  @Field(() => String)
  message!: string;

  @Field(() => Date)
  at!: string;
}

@ObjectType()
export class TrainingLogConnection extends Connection(TrainingLogLine, 'TrainingLogLine') {}

@ObjectType({ description: 'A training run: a dataset version and hyperparameters in, a model version out.' })
export class TrainingRun extends JobState {
  @Field(() => String)
  model!: string;

  @Field(() => ID)
  datasetVersionId!: string;

  @Field(() => String)
  runner!: string;

  @Field(() => String, { nullable: true, description: '`cpu` or `cuda:<index>` once allocated.' })
  device!: string | null;

  @Field(() => GraphQLJSONObject, { description: 'As the runner got them, defaults filled in.' })
  hyperparameters!: Record<string, unknown>;

  @Field(() => GraphQLJSONObject)
  featurizerSpec!: Record<string, unknown>;

  @Field(() => [TrainingStep])
  steps!: TrainingStep[];

  @Field(() => Float, { description: '0 to 1, as the runner reports it.' })
  progress!: number;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'The challenger’s and the champion’s metrics on the same test split (macro F1, per class precision and recall), and whether it won.',
  })
  evaluation!: Record<string, unknown> | null;

  @Field(() => ID, { nullable: true })
  resultVersionId!: string | null;

  @Field(() => Int, { nullable: true, description: 'The model version this run registered.' })
  resultVersion!: number | null;

  @Field(() => Boolean, { description: 'Whether the result became champion.' })
  promoted!: boolean;

  @Field(() => Int, { description: 'Lines the runner printed that were not protocol messages.' })
  garbageLines!: number;

  @Field(() => String, { nullable: true })
  principal!: string | null;
}

@ObjectType()
export class TrainingRunConnection extends Connection(TrainingRun, 'TrainingRun') {}

@InputType()
export class StartTrainingRunInput {
  @Field(() => String, { description: 'The model the result is registered under (a text-classification model you manage).' })
  model!: string;

  @Field(() => ID)
  datasetVersionId!: string;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'epochs, learningRate, dim, seed, metricsEverySteps…; missing ones take their defaults, unknown ones are refused.',
  })
  hyperparameters?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'The featurizer spec to train with; the platform default when omitted.' })
  featurizerSpec?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, defaultValue: 'builtin', description: '`builtin`, or a runner configured in ARENA_TRAINING_RUNNERS.' })
  runner?: string | null;
}

@ObjectType()
export class StartTrainingRunPayload {
  @Field(() => TrainingRun)
  trainingRun!: TrainingRun;
}

@InputType()
export class CancelTrainingRunInput {
  @Field(() => ID)
  id!: string;
}

@ObjectType()
export class CancelTrainingRunPayload {
  @Field(() => TrainingRun)
  trainingRun!: TrainingRun;
}

@InputType()
export class EvaluateModelVersionInput {
  @Field(() => String)
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => ID, { description: 'Scored on this dataset version’s test split.' })
  datasetVersionId!: string;
}

@ObjectType()
export class ModelEvaluation {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => ID)
  modelVersionId!: string;

  @Field(() => ID)
  datasetVersionId!: string;

  @Field(() => GraphQLJSONObject, { description: 'accuracy, macroF1, perClass (precision, recall, f1, support), confusion.' })
  metrics!: Record<string, unknown>;

  @Field(() => Date)
  createdAt!: string;
}

@ObjectType()
export class EvaluateModelVersionPayload {
  @Field(() => ModelEvaluation)
  evaluation!: ModelEvaluation;
}

@InputType()
export class PromoteModelVersionInput {
  @Field(() => String)
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: 'Admins only: promote even if it is not better.' })
  force?: boolean | null;
}

@ObjectType()
export class PromoteModelVersionPayload {
  @Field(() => String)
  model!: string;

  @Field(() => Int, { description: 'The new champion.' })
  version!: number;

  @Field(() => Int, { nullable: true })
  previousChampion!: number | null;

  @Field(() => Boolean)
  forced!: boolean;

  @Field(() => Float, { nullable: true, description: 'Macro F1 of the new champion on the test split both were evaluated on.' })
  challengerF1!: number | null;

  @Field(() => Float, { nullable: true })
  championF1!: number | null;
}

@ObjectType({ description: 'A device of a worker: the CPU, or a GPU.' })
export class WorkerDevice {
  @Field(() => String, { description: '`cpu` or `cuda`.' })
  kind!: string;

  @Field(() => Int, { nullable: true })
  cores!: number | null;

  @Field(() => Int, { nullable: true })
  index!: number | null;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => Int, { nullable: true })
  memoryMiB!: number | null;
}

@ObjectType()
export class WorkerJob {
  @Field(() => String)
  queue!: string;

  @Field(() => ID)
  jobId!: string;

  @Field(() => Date)
  startedAt!: string;
}

@ObjectType({ description: 'A worker process as it last reported itself.' })
export class Worker {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  host!: string;

  @Field(() => Int)
  pid!: number;

  @Field(() => [String])
  queues!: string[];

  @Field(() => Int)
  concurrency!: number;

  @Field(() => [WorkerDevice])
  devices!: WorkerDevice[];

  @Field(() => [WorkerJob])
  currentJobs!: WorkerJob[];

  @Field(() => Date)
  startedAt!: string;

  @Field(() => Date)
  lastHeartbeatAt!: string;

  @Field(() => Boolean, { description: 'Heard from within the last three heartbeats (15 s).' })
  online!: boolean;
}
