import { GraphQLJSONObject } from 'graphql-scalars';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import { Model, ModelVersion } from './model.types.js';

export enum InferenceKindEnum {
  CLASSIFY = 'CLASSIFY',
  PREDICT = 'PREDICT',
}
registerEnumType(InferenceKindEnum, { name: 'InferenceKind', description: 'Which query produced an inference log entry.' });

@ObjectType({ description: 'One label’s probability.' })
export class LabelScore {
  @Field(() => String)
  label!: string;

  @Field(() => Float)
  score!: number;
}

@ObjectType({ description: 'The answer for one text.' })
export class Classification {
  @Field(() => String, { description: 'The most probable label.' })
  label!: string;

  @Field(() => Float, { description: 'Its probability.' })
  score!: number;

  @Field(() => [LabelScore], { description: 'Every label with its probability, in the model’s label order.' })
  scores!: LabelScore[];

  @Field(() => Boolean, { description: 'Answered from the result cache.' })
  cached!: boolean;
}

@ObjectType()
abstract class Served {
  @Field(() => String)
  model!: string;

  @Field(() => Int, { description: 'The model version that answered.' })
  version!: number;

  @Field(() => ID)
  modelVersionId!: string;

  @Field(() => String, { nullable: true, description: 'The alias that was resolved; null when a version was named.' })
  alias!: string | null;

  @Field(() => Float, { description: 'Server time for the whole call, in milliseconds.' })
  latencyMs!: number;
}

@ObjectType({ description: 'Classifications of the texts, in the order they were given.' })
export class ClassifyResult extends Served {
  @Field(() => [Classification])
  results!: Classification[];
}

@InputType({ description: 'A named input tensor: its shape, and its elements flattened row-major.' })
export class TensorInput {
  @Field(() => String)
  name!: string;

  @Field(() => [Int])
  dims!: number[];

  @Field(() => [Float])
  data!: number[];
}

@ObjectType({ description: 'A named output tensor: element type, shape, and elements flattened row-major.' })
export class Tensor {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'onnxruntime’s element type, e.g. float32 or int64.' })
  type!: string;

  @Field(() => [Int])
  dims!: number[];

  @Field(() => [Float], { nullable: 'items', description: 'NaN and ±Infinity, which JSON cannot carry, are null.' })
  data!: (number | null)[];
}

@ObjectType({ description: 'The output tensors of one run.' })
export class PredictResult extends Served {
  @Field(() => [Tensor])
  outputs!: Tensor[];
}

@ObjectType({ description: 'One audited call: a classify of one or many texts, or a predict.' })
export class InferenceLogEntry {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => InferenceKindEnum)
  kind!: InferenceKindEnum | `${InferenceKindEnum}`;

  @Field(() => String, { nullable: true, description: 'Who asked; null until sign-in exists.' })
  principal!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String)
  model!: string;

  @Field(() => ID)
  modelVersionId!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => String, {
    description:
      'SHA-256, hex (texts are not kept): of the text’s UTF-8 for one text; of the texts’ digests joined by "\\n" for several; of the input tensors’ JSON for predict.',
  })
  inputDigest!: string;

  @Field(() => Int, { description: 'Texts in the call (1 for predict).' })
  inputCount!: number;

  @Field(() => Int, { description: 'Characters of all texts, or tensor elements.' })
  inputLength!: number;

  @Field(() => String, { nullable: true, description: 'The label of a one-text classify; null otherwise.' })
  label!: string | null;

  @Field(() => GraphQLJSONObject, {
    description: 'classify: { labels, predictions (a label per text), scores (a row per text, in label order) }; predict: output names, types and shapes.',
  })
  output!: Record<string, unknown>;

  @Field(() => Float)
  latencyMs!: number;

  @Field(() => Int, { description: 'Texts answered from the result cache.' })
  cachedCount!: number;
}

@ObjectType()
export class InferenceLogConnection extends Connection(InferenceLogEntry, 'InferenceLogEntry') {}

@InputType({ description: 'Which inference log entries to list; all filters are optional and combine.' })
export class InferenceLogFilter {
  @Field(() => String, { nullable: true })
  model?: string | null;

  @Field(() => Int, { nullable: true, description: 'A version number of `model` (requires `model`).' })
  version?: number | null;

  @Field(() => Date, { nullable: true, description: 'Entries at or after this time.' })
  since?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Entries before this time.' })
  until?: Date | null;
}

@InputType({ description: 'An ONNX file to register as the next version of a model.' })
export class RegisterModelVersionInput {
  @Field(() => String)
  model!: string;

  @Field(() => GraphQLUpload, {
    description: 'The ONNX file, sent as a GraphQL multipart request (with the `apollo-require-preflight: true` header).',
  })
  file!: Promise<FileUpload>;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'How to featurize text for it (text-classification models). Optional when the file carries `featurizer_spec` metadata.',
  })
  featurizerSpec?: Record<string, unknown> | null;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Metrics to record with the version, e.g. { "f1": 0.93 }.' })
  metrics?: Record<string, number> | null;

  @Field(() => String, { nullable: true, description: 'Point this alias (e.g. `challenger`) at the new version.' })
  alias?: string | null;
}

@ObjectType()
export class RegisterModelVersionPayload {
  @Field(() => Model, { description: 'The model after the change.' })
  model!: Model;

  @Field(() => ModelVersion, { description: 'The version just registered.' })
  version!: ModelVersion;
}

@ObjectType({ description: 'An alias moved (or was removed: version null).' })
export class ModelAliasChange {
  @Field(() => String)
  model!: string;

  @Field(() => String)
  alias!: string;

  @Field(() => Int, { nullable: true })
  version!: number | null;
}
