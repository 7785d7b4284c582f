import { CoachwireError } from "../../protocol/errors.ts";
import { LocalRateLimiter } from "../ratelimit/local-rate-limiter.ts";
import { waitHint } from "../ratelimit/rate-limiter.ts";

/**
 * Who may scrape, and how often: scrapes per client IP are a token bucket in process memory
 * (each process serves its own metrics; a Redis round trip would cost more than the cached
 * answer). Prometheus scrapes every few seconds; a loop of scrapers gets RATE_LIMITED, whose
 * small answer costs far less than the metrics text.
 */
export class MetricsGate {
  private readonly limiter: LocalRateLimiter;

  constructor(
    private readonly options: { ratePerMin: number; isAllowed(ip: string): boolean; isTrusted(ip: string): boolean },
  ) {
    this.limiter = new LocalRateLimiter({ capacity: options.ratePerMin, refillPerSec: options.ratePerMin / 60 });
  }

  /** Resolves when `ip` may scrape now; throws FORBIDDEN (not allowed) or RATE_LIMITED. `checkAllowList` false: the metrics port, where reaching it is the access control. */
  async admit(ip: string, checkAllowList = true): Promise<void> {
    if (checkAllowList && !this.options.isAllowed(ip)) throw new CoachwireError("FORBIDDEN", "Metrics are served to COACHWIRE_METRICS_CIDRS only");
    if (this.options.isTrusted(ip)) return;
    const decision = await this.limiter.consume(ip);
    if (!decision.allowed) throw new CoachwireError("RATE_LIMITED", `Too many scrapes; retry in ${decision.retryAfterMs} ms`, waitHint(decision.retryAfterMs));
  }

  close(): Promise<void> {
    return this.limiter.close();
  }
}
