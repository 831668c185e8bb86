export { ConfigError, loadConfig, modeOf } from './config.js';
export type { Config, Mode } from './config.js';
