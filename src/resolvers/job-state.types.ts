import { ArgsType, Field, ID, Int, ObjectType } from 'type-graphql';
import type { JobStatus } from '../domain/index.js';
import { JobStatusEnum } from './job-status.enum.js';

/** The fields every job-backed type shares (the row's lifecycle); each job type extends it. */
@ObjectType()
export abstract class JobState {
  @Field(() => ID)
  id!: string;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => Int, { description: 'Times a worker started the job.' })
  attempts!: number;

  @Field(() => String, { nullable: true, description: 'The process that ran (or runs) the job.' })
  workerId!: string | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => Date)
  createdAt!: Date | string;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | string | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | string | null;
}

/** The arguments of every list of one kind of job (battles, trainingRuns, inferenceJobs). */
@ArgsType()
export class JobListArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'Page size, 1 to 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => String, { nullable: true, description: 'Only those of this model.' })
  model?: string | null;

  @Field(() => JobStatusEnum, { nullable: true })
  status?: JobStatus | null;
}
