export {
  MAX_RUNNER_LINE,
  MAX_RUNNER_LINE_LENGTH,
  MAX_RUNNER_MESSAGE_LENGTH,
  RUNNER_EXIT_PERMANENT,
  RUNNER_EXIT_SUCCESS,
  RUNNER_PROTOCOL_VERSION,
  classifyRunnerExit,
  formatRunnerLine,
  parseRunnerConfig,
  parseRunnerLine,
  resolveArtifactPath,
} from './runner-protocol.js';
export type {
  ConfigParse,
  ConfigProblem,
  DeviceKind,
  LogLevel,
  ParsedRunnerLine,
  RunnerConfig,
  RunnerLineParse,
  RunnerMessage,
  RunnerOutcome,
} from './runner-protocol.js';
