import { ConfigError, loadConfig, type Config } from "./config.ts";

/**
 * For entry points: loads the configuration (then runs `check` on it, which may throw a
 * ConfigError too) or exits 78 (EX_CONFIG) with a message naming what is wrong.
 */
export function configOrExit(check: (config: Config) => void = () => {}): Config {
  try {
    const config = loadConfig();
    check(config);
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`coachwire: ${err.message}\n`);
    process.exit(78);
  }
}
