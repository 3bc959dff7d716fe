/** A pino-style log method: `(obj, msg?)` or `(msg)`. */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/**
 * The minimal logger the gRPC layer needs. A pino `Logger` (e.g. from
 * `createLogger` of @whiteslip/telemetry) satisfies it.
 */
export interface LoggerLike {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): LoggerLike;
}

/** A logger that drops everything (default when none is given). */
export const silentLogger: LoggerLike = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
