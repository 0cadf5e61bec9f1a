import { Controller, Get, HttpCode, Inject, Injectable, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from './auth.guard';

export type HealthCheck = () => Promise<boolean | { ok: boolean; detail?: unknown }>;

/** Each service registers what "ready" means for it (its database and Kafka answer, its consumers run). */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async run(timeoutMs = 2000): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: unknown }> }> {
    const results: Record<string, { ok: boolean; detail?: unknown }> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          const r = await Promise.race([check(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs).unref())]);
          results[name] = typeof r === 'boolean' ? { ok: r } : r;
        } catch (e) {
          results[name] = { ok: false, detail: (e as Error).message };
        }
      }),
    );
    return { ok: Object.values(results).every((r) => r.ok), checks: results };
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

  @Get('ready')
  async ready(@Res() res: Response): Promise<void> {
    const r = await this.registry.run();
    res.status(r.ok ? 200 : 503).json({ status: r.ok ? 'ok' : 'unavailable', checks: r.checks });
  }
}
