import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import { LabelScore } from './inference.types.js';
import { JobState } from './job-state.types.js';

@ObjectType({ description: 'One text’s answer in a bulk job.' })
export class InferenceResult {
  @Field(() => Int, { description: 'Position of the text in the job’s input, from 0.' })
  index!: number;

  @Field(() => String, { nullable: true })
  label!: string | null;

  @Field(() => [LabelScore], { nullable: true })
  scores!: LabelScore[] | null;

  @Field(() => String, { nullable: true, description: 'Why this text got no answer (empty, too long).' })
  error!: string | null;
}

@ObjectType()
export class InferenceResultConnection extends Connection(InferenceResult, 'InferenceResult') {}

@ObjectType({ description: 'A bulk classification job and its progress.' })
export class InferenceJob extends JobState {
  @Field(() => String)
  model!: string;

  @Field(() => String, { nullable: true, description: 'The alias named at submission, if any.' })
  alias!: string | null;

  @Field(() => Int, { description: 'The version pinned at submission: every text is answered by it.' })
  version!: number;

  @Field(() => ID)
  modelVersionId!: string;

  @Field(() => Int)
  total!: number;

  @Field(() => Int, { description: 'Texts with a stored result so far.' })
  processed!: number;

  @Field(() => Int, { description: 'Texts that could not be classified.' })
  failed!: number;

  @Field(() => Float, { description: 'processed / total, from 0 to 1.' })
  progress!: number;

  @Field(() => Float, { nullable: true, description: 'Texts per second.' })
  throughput!: number | null;

  @Field(() => String, { nullable: true })
  principal!: string | null;
}

@InputType({ description: 'Texts to classify in the background: inline, or as a JSON Lines file.' })
export class SubmitInferenceJobInput {
  @Field(() => String)
  model!: string;

  @Field(() => String, { nullable: true, description: '`champion` when neither alias nor version is given.' })
  alias?: string | null;

  @Field(() => Int, { nullable: true })
  version?: number | null;

  @Field(() => [String], { nullable: true, description: 'Up to ARENA_INFERENCE_JOB_MAX_TEXTS texts (100,000 by default).' })
  texts?: string[] | null;

  @Field(() => GraphQLUpload, {
    nullable: true,
    description: 'A JSON Lines file instead of `texts`: one JSON string or {"text": …} per line (multipart request).',
  })
  file?: Promise<FileUpload> | null;
}

@ObjectType()
export class SubmitInferenceJobPayload {
  @Field(() => InferenceJob)
  inferenceJob!: InferenceJob;
}

@ObjectType({ description: 'Bulk inference across jobs.' })
export class InferenceStats {
  @Field(() => Int, { description: 'Jobs submitted.' })
  total!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => Int)
  running!: number;

  @Field(() => Int, { description: 'Jobs that succeeded.' })
  completed!: number;

  @Field(() => Int, { description: 'Jobs that failed.' })
  failed!: number;

  @Field(() => Int)
  cancelled!: number;

  @Field(() => Float, { nullable: true, description: 'completed / (completed + failed); null before any job finished.' })
  successRate!: number | null;

  @Field(() => Float)
  textsProcessed!: number;

  @Field(() => Float)
  textsFailed!: number;

  @Field(() => Float, { nullable: true, description: 'Texts per second over the completed jobs’ running time.' })
  throughput!: number | null;
}

@ObjectType()
export class InferenceJobConnection extends Connection(InferenceJob, 'InferenceJob') {}
