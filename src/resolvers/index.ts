import { PingResolver } from './ping.resolver.js';
import { SystemResolver } from './system.resolver.js';

export const RESOLVERS = [PingResolver, SystemResolver] as const;
