import { Controller, Get, HttpCode, Inject, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from './auth.guard';

/**
 * `ok: false` = the service cannot do its work (503). `degraded: true` = it works, but something needs an
 * operator (e.g. outbox records the broker refused, parked): readiness stays 200 with `status: degraded`, so a
 * load balancer keeps sending traffic to a service that serves it, and monitoring sees the detail.
 */
export interface HealthResult {
  ok: boolean;
  degraded?: boolean;
  detail?: unknown;
}
export type HealthCheck = () => Promise<boolean | HealthResult>;

/** Each service registers what "ready" means for it (its database and Kafka answer, its consumers run). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async run(timeoutMs = 2000): Promise<{ ok: boolean; degraded: boolean; checks: Record<string, HealthResult> }> {
    const results: Record<string, HealthResult> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          const r = await Promise.race([
            check(),
            new Promise<never>((_, rej) =>
              setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref(),
            ),
          ]);
          results[name] = typeof r === 'boolean' ? { ok: r } : r;
        } catch (e) {
          results[name] = { ok: false, detail: (e as Error).message };
        }
      }),
    );
    return {
      ok: Object.values(results).every((r) => r.ok),
      degraded: Object.values(results).some((r) => r.degraded === true),
      checks: results,
    };
  }
}

@Public()
@Controller('health')
export class HealthController {
  constructor(@Inject(HealthRegistry) private readonly registry: HealthRegistry) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 `ok`, 200 `degraded` (works; a check's detail says what needs an operator), or 503 `unavailable`. */
  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const r = await this.registry.run();
    res
      .status(r.ok ? 200 : 503)
      .json({ status: !r.ok ? 'unavailable' : r.degraded ? 'degraded' : 'ok', checks: r.checks });
  }
}
