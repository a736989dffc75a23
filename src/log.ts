import { destination, pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs go to stderr so that stdout carries only results. Messages are constant
 * strings; the facts travel as fields. Key material and tokens are redacted by path.
 */
export function createLogger(options: { level?: string; destination?: number } = {}): Logger {
  const level = options.level ?? process.env.CHANGEPROOF_LOG_LEVEL ?? 'info';
  return pino(
    {
      level,
      base: { service: 'changeproof' },
      redact: {
        paths: [
          '*.token',
          '*.password',
          '*.privateKey',
          '*.secret',
          'token',
          'password',
          'privateKey',
          'secret',
          'authorization',
          '*.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination({ fd: options.destination ?? 2, sync: true }),
  );
}

/** A logger that drops everything, for library code called without one. */
export const silentLogger: Logger = pino({ level: 'silent' });
