import type { WireFormat } from "../../protocol/parser.ts";

/**
 * The reference server's settings, read once from the same variables `startStack` passes to
 * coachwire. Every other COACHWIRE_* variable (and DATABASE_URL) is ignored on purpose: the
 * reference has no auth, persistence or limits for them to configure.
 */

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** What the reference cluster primary and its server processes run with. */
export interface ReferenceConfig {
  host: string;
  /** This server process's port (COACHWIRE_PORT). */
  port: number;
  /** Server processes the primary forks (COACHWIRE_SERVER_PROCESSES). */
  workers: number;
  /** Worker i listens on portBase + i (COACHWIRE_PORT_BASE). */
  portBase: number;
  parser: WireFormat;
  /** Absent: one process, in-memory adapter and counters. */
  redisUrl: string | undefined;
  redisPrefix: string;
  logLevel: (typeof LOG_LEVELS)[number];
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return value;
}

/** Reads and validates the settings; throws on a malformed value of a variable it uses. */
export function readReferenceConfig(env: NodeJS.ProcessEnv = process.env): Readonly<ReferenceConfig> {
  const parser = env["COACHWIRE_PARSER"] ?? "msgpack";
  if (parser !== "msgpack" && parser !== "json") throw new Error(`COACHWIRE_PARSER must be msgpack or json, got "${parser}"`);
  const logLevel = env["COACHWIRE_LOG_LEVEL"] ?? "info";
  return Object.freeze({
    host: env["COACHWIRE_HOST"] || "127.0.0.1",
    port: integer(env, "COACHWIRE_PORT", 8080, 0, 65_535),
    workers: integer(env, "COACHWIRE_SERVER_PROCESSES", 2, 1, 256),
    portBase: integer(env, "COACHWIRE_PORT_BASE", 8081, 1, 65_000),
    parser,
    redisUrl: env["REDIS_URL"] || undefined,
    redisPrefix: env["COACHWIRE_REDIS_PREFIX"] ?? "reference:",
    logLevel: (LOG_LEVELS as readonly string[]).includes(logLevel) ? (logLevel as ReferenceConfig["logLevel"]) : "info",
  });
}
