import { pino, type Logger } from 'pino';
import type { Config } from './config/index.js';

export type { Logger };

/** JSON lines for machines; colourised, readable lines when a person is watching a terminal. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: NodeJS.WritableStream): Logger {
  const pretty = !destination && process.stdout.isTTY;
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
    },
    pretty ? undefined : (destination ?? pino.destination({ sync: false })),
  );
}
