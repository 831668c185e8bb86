import { ModelResolver } from './model.resolver.js';
import { PingResolver } from './ping.resolver.js';
import { SystemResolver } from './system.resolver.js';

export const RESOLVERS = [ModelResolver, PingResolver, SystemResolver] as const;
