import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import { JobState } from './job-state.types.js';

@ObjectType({ description: 'A trivial job that travels mutation → queue → worker → subscription, to prove the wiring.' })
export class PingJob extends JobState {
  @Field(() => String)
  message!: string;

  @Field(() => Int, { description: 'How long the worker waits before answering, in milliseconds.' })
  delayMs!: number;

  @Field(() => ID, { nullable: true, description: 'The user who asked; only they and admins see the job.' })
  owner!: string | null;

  @Field(() => String, { nullable: true, description: 'The worker’s answer, once SUCCEEDED.' })
  reply!: string | null;
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
