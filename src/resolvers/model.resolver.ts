import { Arg, Args, ArgsType, Ctx, Field, Int, Mutation, Query, Resolver } from 'type-graphql';
import { decodeNameCursor, encodeNameCursor, pageSize, toConnection } from '../graphql/connection.js';
import type { GraphQLContext } from '../graphql/context.js';
import type { ModelView } from '../services/index.js';
import {
  CreateModelInput,
  CreateModelPayload,
  DeleteModelVersionInput,
  DeleteModelVersionPayload,
  Model,
  ModelConnection,
  RemoveModelAliasInput,
  RemoveModelAliasPayload,
  SetModelAliasInput,
  SetModelAliasPayload,
  UpdateModelInput,
  UpdateModelPayload,
} from './model.types.js';

@ArgsType()
class ModelsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;
}

@Resolver(() => Model)
export class ModelResolver {
  @Query(() => ModelConnection, { description: 'Registered models, by name.' })
  async models(@Args(() => ModelsArgs) args: ModelsArgs, @Ctx() ctx: GraphQLContext): Promise<ModelConnection> {
    const page = await ctx.services.registry.listModels(ctx.em, ctx.principal, pageSize(args.first), decodeNameCursor(args.after));
    return toConnection(page.nodes, page.hasMore, await page.totalCount(), (m) => encodeNameCursor(m.name));
  }

  @Query(() => Model, { nullable: true })
  model(@Arg('name', () => String) name: string, @Ctx() ctx: GraphQLContext): Promise<ModelView | null> {
    return ctx.services.registry.getModel(ctx.em, ctx.principal, name);
  }

  @Mutation(() => CreateModelPayload)
  async createModel(@Arg('input', () => CreateModelInput) input: CreateModelInput, @Ctx() ctx: GraphQLContext): Promise<CreateModelPayload> {
    return { model: await ctx.services.registry.createModel(ctx.em, ctx.principal, input) };
  }

  @Mutation(() => UpdateModelPayload, { description: 'Changes a model’s description or visibility (its owner or an admin).' })
  async updateModel(@Arg('input', () => UpdateModelInput) input: UpdateModelInput, @Ctx() ctx: GraphQLContext): Promise<UpdateModelPayload> {
    return { model: await ctx.services.registry.updateModel(ctx.em, ctx.principal, input) };
  }

  @Mutation(() => SetModelAliasPayload, { description: 'Points an alias at a version; every process reloads a moved champion.' })
  async setModelAlias(@Arg('input', () => SetModelAliasInput) input: SetModelAliasInput, @Ctx() ctx: GraphQLContext): Promise<SetModelAliasPayload> {
    return { model: await ctx.services.registry.setAlias(ctx.em, ctx.principal, input.model, input.alias, input.version) };
  }

  @Mutation(() => RemoveModelAliasPayload)
  async removeModelAlias(
    @Arg('input', () => RemoveModelAliasInput) input: RemoveModelAliasInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RemoveModelAliasPayload> {
    return { model: await ctx.services.registry.removeAlias(ctx.em, ctx.principal, input.model, input.alias) };
  }

  @Mutation(() => DeleteModelVersionPayload, { description: 'Refused while an alias points at the version.' })
  async deleteModelVersion(
    @Arg('input', () => DeleteModelVersionInput) input: DeleteModelVersionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeleteModelVersionPayload> {
    return { model: await ctx.services.registry.deleteVersion(ctx.em, ctx.principal, input.model, input.version) };
  }
}
