import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '@csms/platform';
import { ParkedOutbox } from '@csms/messaging';
import {
  HealthRegistry,
  LOGGER,
  ParkedOutboxController,
  ServiceKitModule,
  observeOutbox,
  observeReadiness,
  parseApiKeys,
} from '@csms/service-kit';
import type { GatewayConfig } from './config';
import { StationsController, TokensController } from './http/registry.controller';
import { CommandsController } from './http/commands.controller';
import { CommandService } from './commands/command.service';
import { RegistryService } from './registry/registry.service';
import { GatewayRuntime, type RuntimeOverrides } from './runtime';

const METRICS = Symbol('gateway-metrics');

@Injectable()
class GatewayLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(GatewayRuntime) private readonly runtime: GatewayRuntime,
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(Registry) private readonly metrics: Registry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.health.register('database', async () => {
      await this.runtime.dataSource.query('select 1');
      return true;
    });
    this.health.register('kafka', async () => {
      const publishing = this.runtime.batcher.health();
      return { ok: publishing.ok && (await this.runtime.kafkaAnswers()), detail: publishing };
    });
    this.health.register('registry', async () => this.runtime.registryCache.health());
    // the relay's health, the parked outbox (degraded while records are parked) and its metrics
    observeOutbox(this.metrics, this.health, this.runtime.parked, this.runtime.relay);
    observeReadiness(this.metrics, this.health);
  }

  async onApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'stopping: closing station connections, flushing records');
    await this.runtime.stop();
  }
}

/**
 * The gateway as a Nest application: the service kit (API-key guard, problem details, health, metrics),
 * the registry REST API, and the runtime that owns the OCPP-J listeners (a raw `ws` server: see README).
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger, overrides: RuntimeOverrides = {}): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        ServiceKitModule.forRoot({
          service: 'ocpp-gateway',
          apiKeys: parseApiKeys(config.API_KEYS),
          logger,
          access: { metricsTokenSha256: config.METRICS_TOKEN_SHA256, docsRequireKey: config.DOCS_REQUIRE_KEY },
        }),
      ],
      controllers: [StationsController, TokensController, CommandsController, ParkedOutboxController],
      providers: [
        {
          provide: METRICS,
          inject: [Registry],
          useFactory: (registry: Registry) => {
            const connections = new Gauge({
              name: 'ocpp_connections',
              help: 'stations connected to this instance',
              registers: [registry],
            });
            const bad = new Counter({
              name: 'ocpp_bad_messages_total',
              help: 'bad messages by kind',
              labelNames: ['kind'],
              registers: [registry],
            });
            const refused = new Counter({
              name: 'ocpp_upgrades_refused_total',
              help: 'refused upgrades by HTTP status',
              labelNames: ['status'],
              registers: [registry],
            });
            const answered = new Histogram({
              name: 'ocpp_call_duration_seconds',
              help: 'inbound CALL to CALLRESULT/CALLERROR, including the broker acknowledgement, by action and outcome',
              labelNames: ['protocol', 'action', 'outcome'],
              // 75 and 150 ms around the 100 ms p99 an operator alerts on (histogram_quantile interpolates inside a bucket)
              buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5],
              registers: [registry],
            });
            const authFailures = new Counter({
              name: 'ocpp_auth_failures_total',
              help: 'upgrades refused for wrong or missing credentials (401): each counts against the station id and the address',
              registers: [registry],
            });
            const authThrottled = new Counter({
              name: 'ocpp_auth_throttled_total',
              help: 'upgrades refused with 429 because the station id or the remote address failed authentication too often',
              labelNames: ['scope'],
              registers: [registry],
            });
            const passwordChecks = new Counter({
              name: 'ocpp_password_checks_total',
              help: 'Basic-auth password checks: hit = answered from the verifications remembered, miss = scrypt',
              labelNames: ['result'],
              registers: [registry],
            });
            const pending = new Gauge({
              name: 'ocpp_pending_upgrades',
              help: 'connections accepted that are not WebSockets yet',
              registers: [registry],
            });
            return {
              authFailed: () => authFailures.inc(),
              authThrottled: (scope: string) => authThrottled.inc({ scope }),
              passwordCheck: (result: string) => passwordChecks.inc({ result }),
              pendingUpgrades: (n: number) => pending.set(n),
              callAnswered: (protocol: string, action: string, outcome: string, seconds: number) =>
                answered.observe({ protocol, action, outcome }, seconds),
              connections: (n: number) => connections.set(n),
              badMessage: (kind: string) => bad.inc({ kind }),
              refused: (status: number) => refused.inc({ status: String(status) }),
            };
          },
        },
        {
          provide: GatewayRuntime,
          inject: [METRICS],
          useFactory: (metrics: RuntimeOverrides['metrics']) =>
            GatewayRuntime.start(config, logger, { metrics, ...overrides }),
        },
        { provide: RegistryService, inject: [GatewayRuntime], useFactory: (rt: GatewayRuntime) => rt.registry },
        { provide: ParkedOutbox, inject: [GatewayRuntime], useFactory: (rt: GatewayRuntime) => rt.parked },
        { provide: CommandService, inject: [GatewayRuntime], useFactory: (rt: GatewayRuntime) => rt.commands },
        GatewayLifecycle,
      ],
    };
  }
}
