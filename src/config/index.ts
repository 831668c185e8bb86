export { ConfigError, loadConfig, modeOf } from './config.js';
export type { Config, LlmConfig, Mode } from './config.js';
