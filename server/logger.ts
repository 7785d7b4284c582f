import pino, { type Logger } from "pino";

/** The process's root logger; modules take `logger.child({ module: "name" })`. */
export function createLogger(level: pino.LevelWithSilent): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}
