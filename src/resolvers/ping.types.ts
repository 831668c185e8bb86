import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import type { JobStatus } from '../domain/index.js';
import { Connection } from '../graphql/connection.js';
import { JobStatusEnum } from './job-status.enum.js';

@ObjectType({ description: 'A trivial job that travels mutation → queue → worker → subscription, to prove the wiring.' })
export class PingJob {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  message!: string;

  @Field(() => Int, { description: 'How long the worker waits before answering, in milliseconds.' })
  delayMs!: number;

  @Field(() => JobStatusEnum)
  status!: JobStatus;

  @Field(() => String, { nullable: true, description: 'The worker’s answer, once SUCCEEDED.' })
  reply!: string | null;

  @Field(() => Int)
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

@ObjectType()
export class PingJobConnection extends Connection(PingJob, 'PingJob') {}

@InputType()
export class RequestPingInput {
  @Field(() => String, { description: 'Echoed back by the worker; 1 to 1000 characters.' })
  message!: string;

  @Field(() => Int, { nullable: true, defaultValue: 0, description: 'Milliseconds the worker waits, 0 to 60000.' })
  delayMs?: number | null;
}

@ObjectType()
export class RequestPingPayload {
  @Field(() => PingJob)
  pingJob!: PingJob;
}
