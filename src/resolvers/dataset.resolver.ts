import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { decodeIntCursor, decodeNameCursor, encodeKeyCursor, encodeNameCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import { badInput } from '../errors.js';
import type { DatasetVersionView, DatasetView } from '../services/index.js';
import {
  CreateDatasetInput,
  CreateDatasetPayload,
  CreateDatasetVersionInput,
  CreateDatasetVersionPayload,
  Dataset,
  DatasetConnection,
  DatasetFormat,
  DatasetVersion,
  DeleteDatasetInput,
  DeleteDatasetPayload,
  DeriveDatasetVersionInput,
  DeriveDatasetVersionPayload,
  ExampleConnection,
  ExampleSplit,
} from './dataset.types.js';

@ArgsType()
class DatasetsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@ArgsType()
class ExamplesArgs extends DatasetsArgs {
  @Field(() => String, { nullable: true, description: 'Only examples with this label.' })
  label?: string | null;

  @Field(() => ExampleSplit, { nullable: true, description: 'Only examples of this split.' })
  split?: ExampleSplit | null;
}

/** Where a version's export is served, relative to the API's base URL (see src/server/dataset-export.ts). */
export const exportPath = (datasetId: string, version: number, format: string) =>
  `/datasets/${encodeURIComponent(datasetId)}/versions/${version}/export?format=${encodeURIComponent(format)}`;

@Resolver(() => Dataset)
export class DatasetResolver {
  @Query(() => DatasetConnection, { description: 'Datasets the caller may read, by name.' })
  async datasets(@Args(() => DatasetsArgs) args: DatasetsArgs, @Ctx() ctx: GraphQLContext): Promise<DatasetConnection> {
    const page = await ctx.services.datasets.listDatasets(ctx.em, ctx.principal, pageSize(args.first), decodeNameCursor(args.after));
    return toConnection(page.nodes, page.hasMore, page.totalCount, (d) => encodeNameCursor(d.name)) as unknown as DatasetConnection;
  }

  @Query(() => Dataset, { nullable: true, description: 'A dataset by id or by name; null when there is none the caller may read.' })
  dataset(
    @Arg('id', () => ID, { nullable: true }) id: string | null,
    @Arg('name', () => String, { nullable: true }) name: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DatasetView | null> {
    const ref = id ?? name;
    if (!ref || (id && name)) throw badInput('Pass exactly one of id and name.', { field: 'id' });
    return ctx.services.datasets.getDataset(ctx.em, ctx.principal, ref);
  }

  @FieldResolver(() => DatasetVersion, { nullable: true, description: 'One version by number.' })
  version(@Root() dataset: DatasetView, @Arg('number', () => Int) number: number): DatasetVersionView | null {
    return dataset.versions.find((v) => v.version === number) ?? null;
  }

  @Mutation(() => CreateDatasetPayload)
  async createDataset(@Arg('input', () => CreateDatasetInput) input: CreateDatasetInput, @Ctx() ctx: GraphQLContext): Promise<CreateDatasetPayload> {
    return { dataset: (await ctx.services.datasets.createDataset(ctx.em, ctx.principal, input)) as unknown as Dataset };
  }

  @Mutation(() => CreateDatasetVersionPayload, {
    description: 'A new version from an uploaded CSV or JSON Lines file (multipart request). All or nothing: any bad row refuses the file, listing the first bad lines in extensions.problems.',
  })
  async createDatasetVersion(
    @Arg('input', () => CreateDatasetVersionInput) input: CreateDatasetVersionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CreateDatasetVersionPayload> {
    const upload = await input.file;
    const created = await ctx.services.datasets.createVersionFromUpload(ctx.em, ctx.principal, {
      dataset: input.dataset,
      file: upload.createReadStream(),
      fileName: upload.filename,
      format: input.format ?? null,
      splitRatio: input.splitRatio ?? null,
      note: input.note ?? null,
    });
    return created as unknown as CreateDatasetVersionPayload;
  }

  @Mutation(() => DeriveDatasetVersionPayload, { description: 'A new version: a parent version plus new examples; the parent’s rows are shared, not copied.' })
  async deriveDatasetVersion(
    @Arg('input', () => DeriveDatasetVersionInput) input: DeriveDatasetVersionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeriveDatasetVersionPayload> {
    const created = await ctx.services.datasets.deriveVersion(ctx.em, ctx.principal, {
      dataset: input.dataset,
      parentVersion: input.parentVersion,
      examples: input.examples.map((e) => ({ text: e.text, label: e.label, source: e.source ?? null, split: e.split ?? null })),
      note: input.note ?? null,
    });
    return created as unknown as DeriveDatasetVersionPayload;
  }

  @Mutation(() => DeleteDatasetPayload, { description: 'Deletes a dataset with its versions and examples; refused (CONFLICT) while something depends on it.' })
  async deleteDataset(@Arg('input', () => DeleteDatasetInput) input: DeleteDatasetInput, @Ctx() ctx: GraphQLContext): Promise<DeleteDatasetPayload> {
    return { deletedDataset: await ctx.services.datasets.deleteDataset(ctx.em, ctx.principal, input.dataset) };
  }
}

@Resolver(() => DatasetVersion)
export class DatasetVersionResolver {
  @FieldResolver(() => ExampleConnection, { description: 'The version’s examples (its ancestors’ included), oldest first.' })
  async examples(@Root() version: DatasetVersionView, @Args(() => ExamplesArgs) args: ExamplesArgs, @Ctx() ctx: GraphQLContext): Promise<ExampleConnection> {
    const page = await ctx.services.datasets.examples(ctx.em, version, pageSize(args.first), decodeIntCursor('example', args.after), {
      label: args.label ?? null,
      split: args.split ?? null,
    });
    return toConnection(page.nodes, page.hasMore, page.totalCount, (e) => encodeKeyCursor('example', e.id)) as unknown as ExampleConnection;
  }

  @FieldResolver(() => String, {
    description: 'Where to GET the whole version as a file, streamed, relative to the API’s base URL; send the same Authorization header.',
  })
  exportUrl(@Root() version: DatasetVersionView, @Arg('format', () => DatasetFormat, { defaultValue: DatasetFormat.CSV }) format: DatasetFormat): string {
    return exportPath(version.datasetId, version.version, format);
  }
}
