import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Connection } from '../graphql/connection.js';
import { JobState } from './job-state.types.js';
import { TrainingRun } from './training.types.js';

@ObjectType({ description: 'One attack strategy the attacker knows.' })
export class AttackStrategy {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  description!: string;

  @Field(() => Boolean, { description: 'Whether it asks the defender (within the battle’s query budget) which words matter.' })
  queriesDefender!: boolean;

  @Field(() => Boolean, { description: 'Whether it needs a language model (ARENA_LLM_URL, an OpenAI-compatible chat endpoint).' })
  needsLlm!: boolean;

  @Field(() => Boolean, { description: 'Whether battles on this server can play it.' })
  available!: boolean;

  @Field(() => String, { nullable: true, description: 'Why it is not available, and what to set.' })
  unavailableReason!: string | null;
}

@ObjectType({ description: 'Attempts and evasions of one strategy or split.' })
export class EvasionStats {
  @Field(() => String, { description: 'The strategy id or the split (train, test).' })
  key!: string;

  @Field(() => Int)
  attempts!: number;

  @Field(() => Int)
  evasions!: number;

  @Field(() => Float, { description: 'evasions / attempts.' })
  rate!: number;
}

@ObjectType()
export class LatencyPercentiles {
  @Field(() => Float)
  p50!: number;

  @Field(() => Float)
  p95!: number;

  @Field(() => Float)
  p99!: number;
}

@ObjectType({ description: 'One round: the seed text, the attacker’s variant, and what the defender said.' })
export class BattleRound {
  @Field(() => ID)
  battleId!: string;

  @Field(() => Int, { description: '0, 1, 2… in play order.' })
  index!: number;

  @Field(() => Int)
  seedIndex!: number;

  @Field(() => String, { description: 'The split of the seed text (only train-split evasions join a retrain).' })
  split!: string;

  @Field(() => String)
  original!: string;

  @Field(() => String)
  variant!: string;

  @Field(() => String)
  strategy!: string;

  @Field(() => Float, { description: 'The defender’s probability of the harmful label.' })
  score!: number;

  @Field(() => Boolean, { description: 'Whether the defender caught it (false: the attacker got through).' })
  detected!: boolean;

  @Field(() => Int, { description: 'Defender queries the round spent, its final scoring included.' })
  queries!: number;

  @Field(() => Float, { description: 'Defender time per round in its batch, ms.' })
  latencyMs!: number;
}

@ObjectType()
export class BattleRoundConnection extends Connection(BattleRound, 'BattleRound') {}

@ObjectType({ description: 'The rounds of one stored batch: fast battles push them coalesced.' })
export class BattleRoundsEvent {
  @Field(() => ID)
  battleId!: string;

  @Field(() => [BattleRound])
  rounds!: BattleRound[];
}

@ObjectType({ description: 'An attacker against a pinned defender version, round by round.' })
export class Battle extends JobState {
  @Field(() => String)
  model!: string;

  @Field(() => String, { description: 'The alias the defender was chosen by.' })
  alias!: string;

  @Field(() => Int, { description: 'The defender version, pinned at creation.' })
  defenderVersion!: number;

  @Field(() => ID)
  defenderVersionId!: string;

  @Field(() => String)
  harmfulLabel!: string;

  @Field(() => Int, { description: 'Rounds the battle plays in all.' })
  totalRounds!: number;

  @Field(() => Int)
  roundsDone!: number;

  @Field(() => Int)
  evasions!: number;

  @Field(() => Int)
  detections!: number;

  @Field(() => Float)
  evasionRate!: number;

  @Field(() => Float, { nullable: true, description: 'On seeds from the test split only: texts a retrain never saw.' })
  testEvasionRate!: number | null;

  @Field(() => Float, { description: 'A finished battle above this evasion rate retrains the defender (autoRetrain).' })
  threshold!: number;

  @Field(() => Boolean)
  autoRetrain!: boolean;

  @Field(() => [String], { nullable: true, description: 'Pinned strategies; null: adaptive (a bandit).' })
  strategies!: string[] | null;

  @Field(() => Float, { description: 'The random seed: the same seed and config play the same rounds.' })
  seed!: number;

  @Field(() => Int)
  queryBudget!: number;

  @Field(() => Float, { description: 'Share of a text’s words the blind strategies perturb.' })
  intensity!: number;

  @Field(() => Int)
  seedCount!: number;

  @Field(() => ID, { nullable: true })
  seedDatasetVersionId!: string | null;

  @Field(() => [EvasionStats])
  byStrategy!: EvasionStats[];

  @Field(() => [EvasionStats])
  bySplit!: EvasionStats[];

  @Field(() => Int, { description: 'Defender queries in all.' })
  queries!: number;

  @Field(() => LatencyPercentiles, { nullable: true, description: 'Defender latency per round, once finished (ms).' })
  latency!: LatencyPercentiles | null;

  @Field(() => ID, { nullable: true })
  retrainRunId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The dataset version the retrain trained on: the defender’s data plus the evaded samples.' })
  retrainDatasetVersionId!: string | null;

  @Field(() => String, { nullable: true, description: 'Why a battle over its threshold did not retrain.' })
  retrainNotice!: string | null;

  @Field(() => [String], { description: 'How the battle was played, where a person should know: a strategy skipped, a language model that failed (and what its rounds played instead).' })
  notices!: string[];

  @Field(() => ID, { nullable: true, description: 'The battle this one is a rematch of.' })
  rematchOf!: string | null;

  @Field(() => String, { nullable: true })
  principal!: string | null;
}

@ObjectType()
export class BattleConnection extends Connection(Battle, 'Battle') {}

@ObjectType({ description: 'How one model version fared across every battle fought against it.' })
export class ModelVersionBattleStats {
  @Field(() => Int)
  battles!: number;

  @Field(() => Int)
  rounds!: number;

  @Field(() => Float)
  evasionRate!: number;

  @Field(() => [EvasionStats])
  byStrategy!: EvasionStats[];
}

@InputType()
export class CreateBattleInput {
  @Field(() => String, { description: 'The defender model.' })
  model!: string;

  @Field(() => String, { nullable: true, defaultValue: 'champion', description: 'Its version now, pinned for the battle.' })
  alias?: string | null;

  @Field(() => Int, { description: '1 to 1,000,000.' })
  rounds!: number;

  @Field(() => [String], { nullable: true, description: 'Strategy ids (attackStrategies); none: adaptive.' })
  strategies?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Seed texts given inline (tagged test: they never join a retrain).' })
  seedTexts?: string[] | null;

  @Field(() => ID, { nullable: true, description: 'Or seeds from a dataset version (each keeps its split).' })
  seedDatasetVersionId?: string | null;

  @Field(() => String, { nullable: true, description: 'The label of the dataset examples to attack with (the harmful label by default).' })
  seedLabel?: string | null;

  @Field(() => Int, { nullable: true, description: 'At most this many seeds from the dataset (default 1,000).' })
  seedLimit?: number | null;

  @Field(() => String, { nullable: true, description: 'The label the attacker wants missed (default: the model’s last label).' })
  harmfulLabel?: string | null;

  @Field(() => Float, { nullable: true, description: 'Retrain above this evasion rate (default 0.3).' })
  threshold?: number | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  autoRetrain?: boolean | null;

  @Field(() => Float, { nullable: true, description: 'A random seed (0 to 2^32-1); random when omitted.' })
  seed?: number | null;

  @Field(() => Int, { nullable: true, defaultValue: 0, description: 'Defender queries a query-based round may spend (0 to 1,000).' })
  queryBudget?: number | null;

  @Field(() => Float, { nullable: true, description: 'Share of a text’s words the blind strategies perturb, 0 to 1 (default 0.4).' })
  intensity?: number | null;
}

@ObjectType()
export class BattlePayload {
  @Field(() => Battle)
  battle!: Battle;
}

@InputType()
export class BattleIdInput {
  @Field(() => ID)
  id!: string;
}

export { TrainingRun };
