import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import type { PromotionPolicy, Visibility } from '../domain/index.js';
import { VisibilityEnum } from './auth.types.js';

export enum ModelVersionSource {
  UPLOAD = 'UPLOAD',
  TRAINING = 'TRAINING',
}
registerEnumType(ModelVersionSource, { name: 'ModelVersionSource', description: 'How a version came to be.' });

export enum PromotionPolicyEnum {
  AUTOMATIC = 'AUTOMATIC',
  MANUAL = 'MANUAL',
}
registerEnumType(PromotionPolicyEnum, {
  name: 'PromotionPolicy',
  description: 'AUTOMATIC: a training run’s challenger that beats the champion becomes champion; MANUAL: promoteModelVersion decides.',
});

@ObjectType({ description: 'An immutable model version: its ONNX artifact, how to feed it, its metrics and lineage.' })
export class ModelVersion {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: '1, 2, 3… per model.' })
  version!: number;

  @Field(() => String)
  format!: string;

  @Field(() => String, { description: 'SHA-256 of the artifact, hex.' })
  sha256!: string;

  @Field(() => Float)
  sizeBytes!: number;

  @Field(() => GraphQLJSONObject, { description: 'Turns text into this version’s input, in any process.' })
  featurizerSpec!: Record<string, unknown>;

  @Field(() => GraphQLJSONObject, { description: 'Input and output names, types and shapes.' })
  signature!: Record<string, unknown>;

  @Field(() => GraphQLJSONObject)
  metrics!: Record<string, number>;

  @Field(() => ModelVersionSource)
  source!: ModelVersionSource | `${ModelVersionSource}`;

  @Field(() => ID, { nullable: true })
  trainingRunId!: string | null;

  @Field(() => ID, { nullable: true })
  datasetVersionId!: string | null;

  @Field(() => String, { nullable: true })
  createdBy!: string | null;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => [String], { description: 'Aliases pointing at this version.' })
  aliases!: string[];
}

@ObjectType({ description: 'A movable name for a version (`champion`, `challenger`, or any other).' })
export class ModelAlias {
  @Field(() => String)
  name!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Date)
  updatedAt!: Date | string;
}

@ObjectType({ description: 'A registered model: a name, a label set, versions and aliases.' })
export class Model {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  task!: string;

  @Field(() => [String], { description: 'The labels every version outputs, in order.' })
  labels!: string[];

  @Field(() => String)
  description!: string;

  @Field(() => ID, { nullable: true, description: 'The owning user; null for models the platform made.' })
  owner!: string | null;

  @Field(() => VisibilityEnum)
  visibility!: Visibility;

  @Field(() => PromotionPolicyEnum)
  promotionPolicy!: PromotionPolicy;

  @Field(() => Float, { description: 'How much higher a challenger’s test F1 must be than the champion’s to take over.' })
  promotionMargin!: number;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => [ModelVersion], { description: 'Newest first.' })
  versions!: ModelVersion[];

  @Field(() => [ModelAlias])
  aliases!: ModelAlias[];
}

@ObjectType()
export class ModelConnection extends Connection(Model, 'Model') {}

@InputType()
export class CreateModelInput {
  @Field(() => String, { description: '1 to 64 characters of a-z, 0-9, ".", "_", "-".' })
  name!: string;

  @Field(() => [String], { description: '2 to 100 distinct labels, in the order the model outputs them.' })
  labels!: string[];

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true, defaultValue: 'text-classification' })
  task?: string | null;

  @Field(() => VisibilityEnum, { nullable: true, defaultValue: 'PRIVATE' })
  visibility?: Visibility | null;
}

@InputType()
export class UpdateModelInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => VisibilityEnum, { nullable: true })
  visibility?: Visibility | null;

  @Field(() => PromotionPolicyEnum, { nullable: true, description: 'What a training run does with a challenger that wins.' })
  promotionPolicy?: PromotionPolicy | null;

  @Field(() => Float, { nullable: true, description: 'How much higher (0 to 1) a challenger’s test F1 must be than the champion’s.' })
  promotionMargin?: number | null;
}

@InputType()
export class SetModelAliasInput {
  @Field(() => String)
  model!: string;

  @Field(() => String, { description: 'e.g. `champion`; created if new, moved if it exists.' })
  alias!: string;

  @Field(() => Int)
  version!: number;
}

@InputType()
export class RemoveModelAliasInput {
  @Field(() => String)
  model!: string;

  @Field(() => String)
  alias!: string;
}

@InputType()
export class DeleteModelVersionInput {
  @Field(() => String)
  model!: string;

  @Field(() => Int)
  version!: number;
}

@ObjectType({ description: 'The model after the change.' })
export class ModelPayload {
  @Field(() => Model)
  model!: Model;
}

@ObjectType()
export class CreateModelPayload extends ModelPayload {}

@ObjectType()
export class UpdateModelPayload extends ModelPayload {}

@ObjectType()
export class SetModelAliasPayload extends ModelPayload {}

@ObjectType()
export class RemoveModelAliasPayload extends ModelPayload {}

@ObjectType()
export class DeleteModelVersionPayload extends ModelPayload {}
