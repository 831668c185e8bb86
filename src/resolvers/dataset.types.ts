import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Visibility } from '../domain/index.js';
import { Connection } from '../graphql/connection.js';
import { VisibilityEnum } from './auth.types.js';

export enum DatasetFormat {
  CSV = 'csv',
  JSONL = 'jsonl',
}
registerEnumType(DatasetFormat, { name: 'DatasetFormat', description: 'CSV with a header row, or JSON Lines (one object per line).' });

export enum ExampleSplit {
  TRAIN = 'train',
  TEST = 'test',
}
registerEnumType(ExampleSplit, { name: 'ExampleSplit' });

export enum DatasetVersionSource {
  UPLOAD = 'UPLOAD',
  DERIVED = 'DERIVED',
  IMPORT = 'IMPORT',
}
registerEnumType(DatasetVersionSource, { name: 'DatasetVersionSource', description: 'How a version came to be.' });

@ObjectType({ description: 'One labelled text.' })
export class Example {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  text!: string;

  @Field(() => String)
  label!: string;

  @Field(() => String, { nullable: true, description: 'Where the text came from (a file’s source column, a battle, a corpus id).' })
  source!: string | null;

  @Field(() => ExampleSplit)
  split!: ExampleSplit | `${ExampleSplit}`;

  @Field(() => Int, { description: 'The version that added it.' })
  version!: number;
}

@ObjectType()
export class ExampleConnection extends Connection(Example, 'Example') {}

@ObjectType()
export class DatasetLabelCount {
  @Field(() => String)
  label!: string;

  @Field(() => Int)
  count!: number;

  @Field(() => Int)
  train!: number;

  @Field(() => Int)
  test!: number;
}

@ObjectType()
export class DatasetSplitSizes {
  @Field(() => Int)
  train!: number;

  @Field(() => Int)
  test!: number;
}

@ObjectType({ description: 'What a version holds, computed when it was written.' })
export class DatasetValidationReport {
  @Field(() => Int)
  rows!: number;

  @Field(() => [String], { description: 'The label set.' })
  labels!: string[];

  @Field(() => [DatasetLabelCount], { description: 'Examples per label, in label-set order, with their split.' })
  classDistribution!: DatasetLabelCount[];

  @Field(() => DatasetSplitSizes)
  splits!: DatasetSplitSizes;

  @Field(() => Int, { description: 'Examples whose split the file gave; the rest were split by a hash of the normalized text.' })
  splitsFromFile!: number;

  @Field(() => Int, { description: 'Examples whose exact text came earlier in the version.' })
  exactDuplicates!: number;

  @Field(() => Int, { description: 'Examples whose normalized text (case, Unicode forms, homoglyphs, invisible characters, spacing) came earlier; exact duplicates included.' })
  normalizedDuplicates!: number;

  @Field(() => Int, { description: 'Rows refused for an empty text (always 0 on a stored version: any bad row refuses the upload).' })
  emptyTexts!: number;

  @Field(() => Int, { description: 'Rows refused for a text over ARENA_DATASET_MAX_TEXT_LENGTH (0 on a stored version).' })
  oversizedTexts!: number;

  @Field(() => Int, { description: 'Rows refused for a label outside the set (0 on a stored version).' })
  unknownLabels!: number;
}

@ObjectType({ description: 'What a version changed relative to its parent.' })
export class DatasetChanges {
  @Field(() => DatasetVersionSource)
  source!: DatasetVersionSource | `${DatasetVersionSource}`;

  @Field(() => Int, { description: 'Examples this version added; a derived version stores only these.' })
  added!: number;

  @Field(() => DatasetFormat, { nullable: true })
  format!: string | null;

  @Field(() => String, { nullable: true })
  fileName!: string | null;

  @Field(() => String, { nullable: true })
  note!: string | null;
}

@ObjectType({ description: 'An immutable version of a dataset: its parent’s examples (if any) plus its own.' })
export class DatasetVersion {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: '1, 2, 3… per dataset.' })
  version!: number;

  @Field(() => Int, { nullable: true })
  parentVersion!: number | null;

  @Field(() => ID, { nullable: true })
  parentId!: string | null;

  @Field(() => [ID], { description: 'Ancestor version ids, oldest first, ending with this one: its examples are theirs and its own.' })
  lineage!: string[];

  @Field(() => [Int], { description: 'The version numbers of `lineage`.' })
  lineageVersions!: number[];

  @Field(() => DatasetChanges)
  changes!: DatasetChanges;

  @Field(() => Int, { description: 'Examples in this version, its ancestors’ included.' })
  rowCount!: number;

  @Field(() => Float, { description: 'Share of hash-split examples held out for test.' })
  splitRatio!: number;

  @Field(() => DatasetValidationReport)
  validation!: DatasetValidationReport;

  @Field(() => String, { nullable: true })
  createdBy!: string | null;

  @Field(() => Date)
  createdAt!: Date | string;
}

@ObjectType({ description: 'Labelled text with a label set and immutable versions.' })
export class Dataset {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => [String], { description: 'Every example’s label is one of these.' })
  labels!: string[];

  @Field(() => ID, { nullable: true, description: 'The owning user; null for datasets the platform made (imports from the CLI).' })
  owner!: string | null;

  @Field(() => VisibilityEnum)
  visibility!: Visibility;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => [DatasetVersion], { description: 'Newest first.' })
  versions!: DatasetVersion[];
}

@ObjectType()
export class DatasetConnection extends Connection(Dataset, 'Dataset') {}

@InputType()
export class CreateDatasetInput {
  @Field(() => String, { description: '1 to 64 characters of a-z, 0-9, ".", "_", "-".' })
  name!: string;

  @Field(() => [String], { description: '2 to 100 distinct labels.' })
  labels!: string[];

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => VisibilityEnum, { nullable: true, defaultValue: 'PRIVATE' })
  visibility?: Visibility | null;
}

@InputType({ description: 'A file of labelled text: CSV with a header (text, label, optional source, split) or JSON Lines with those keys.' })
export class CreateDatasetVersionInput {
  @Field(() => String, { description: 'The dataset’s id or name.' })
  dataset!: string;

  @Field(() => GraphQLUpload, { description: 'The file (GraphQL multipart request).' })
  file!: Promise<FileUpload>;

  @Field(() => DatasetFormat, { nullable: true, description: 'Else from the file name: .csv, .jsonl or .ndjson.' })
  format?: DatasetFormat | null;

  @Field(() => Float, { nullable: true, description: 'Share of examples without a split in the file that go to test, by a hash of the normalized text (default 0.2).' })
  splitRatio?: number | null;

  @Field(() => String, { nullable: true })
  note?: string | null;
}

@InputType()
export class NewExampleInput {
  @Field(() => String)
  text!: string;

  @Field(() => String)
  label!: string;

  @Field(() => String, { nullable: true })
  source?: string | null;

  @Field(() => ExampleSplit, { nullable: true, description: 'Else by a hash of the normalized text, with the parent’s ratio.' })
  split?: ExampleSplit | null;
}

@InputType({ description: 'A new version: the parent’s examples plus these (the parent’s rows are shared, not copied).' })
export class DeriveDatasetVersionInput {
  @Field(() => String, { description: 'The dataset’s id or name.' })
  dataset!: string;

  @Field(() => Int)
  parentVersion!: number;

  @Field(() => [NewExampleInput])
  examples!: NewExampleInput[];

  @Field(() => String, { nullable: true })
  note?: string | null;
}

@InputType()
export class DeleteDatasetInput {
  @Field(() => String, { description: 'The dataset’s id or name.' })
  dataset!: string;
}

@ObjectType()
export class CreateDatasetPayload {
  @Field(() => Dataset)
  dataset!: Dataset;
}

@ObjectType()
export class CreateDatasetVersionPayload {
  @Field(() => Dataset)
  dataset!: Dataset;

  @Field(() => DatasetVersion)
  version!: DatasetVersion;
}

@ObjectType()
export class DeriveDatasetVersionPayload extends CreateDatasetVersionPayload {}

@ObjectType({ description: 'What was deleted.' })
export class DeletedDataset {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType()
export class DeleteDatasetPayload {
  @Field(() => DeletedDataset)
  deletedDataset!: DeletedDataset;
}
