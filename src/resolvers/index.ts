import { AuthResolver } from './auth.resolver.js';
import { BattleResolver } from './battle.resolver.js';
import { DatasetResolver, DatasetVersionResolver } from './dataset.resolver.js';
import { InferenceJobResolver } from './inference-job.resolver.js';
import { InferenceResolver } from './inference.resolver.js';
import { ModelResolver } from './model.resolver.js';
import { PingResolver } from './ping.resolver.js';
import { SystemResolver } from './system.resolver.js';
import { TrainingResolver } from './training.resolver.js';

export const RESOLVERS = [AuthResolver, ModelResolver, InferenceResolver, InferenceJobResolver, DatasetResolver, DatasetVersionResolver, PingResolver, TrainingResolver, BattleResolver, SystemResolver] as const;
