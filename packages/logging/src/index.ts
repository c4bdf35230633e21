import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** The JSON logger every service uses: one line per event, with the service name on each. */
export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token'],
      censor: '[redacted]',
    },
  });
}
export * from './metrics-server.js';
