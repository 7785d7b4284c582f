import { DataDirLockedError } from "../db/data-dir-lock.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { PortInUseError } from "./transport/transport.ts";

/** The exit code of a server that refuses to start: EX_CONFIG, for a bad setting as for a port or data directory another server holds. */
export const EXIT_REFUSED = 78;

/**
 * For entry points: loads the configuration (then runs `check` on it, which may throw a
 * ConfigError too) or exits 78 (EX_CONFIG) with a message naming what is wrong.
 */
export function configOrExit(check: (config: Config) => void = () => {}): Config {
  try {
    const config = loadConfig();
    check(config);
    for (const warning of config.warnings) process.stderr.write(`coachwire: warning: ${warning}\n`);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`coachwire: ${err.message}\n`);
    process.exit(EXIT_REFUSED);
  }
}

/**
 * For entry points: awaits a start-up step; when another process holds the port or the
 * embedded data directory, exits {@link EXIT_REFUSED} with a message naming it instead of
 * starting a second server on the same port or data.
 */
export async function orExitIfTaken<T>(step: Promise<T>): Promise<T> {
  try {
    return await step;
  } catch (err) {
    if (!(err instanceof DataDirLockedError || err instanceof PortInUseError)) throw err;
    process.stderr.write(`coachwire: refusing to start: ${err.message}\n`);
    process.exit(EXIT_REFUSED);
  }
}
