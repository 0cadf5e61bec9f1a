import { TOPIC_SPECS, Topics, deadLetterSpec, systemCatalogue } from '@csms/contracts';
import { SharedDecodes } from '@csms/messaging';
import { createLogger, type Logger } from '@csms/platform';
import { startService, type RunningService, sharedSettings } from '@csms/service-kit';
import { CatalogueConsumer } from './catalogue.consumer';
import { CATALOGUE_DEPS, CatalogueController, type CatalogueDeps } from './catalogue.controller';
import { CdrsController } from './cdrs.controller';
import { MeterKeysController } from './meter-keys.controller';
import type { TariffServiceConfig } from './config';
import { tariffServiceMigrations } from './migrations';
import { PRICING, PricingConsumer } from './pricing.consumer';
import { makePricingConsumer } from './pricing.handler';
import type { Pricer } from '@csms/billing';
import { TARIFF_CONFIG } from './tokens';
import { RUNNING, RunningCostConsumer } from './running.consumer';
import { RunningCostHandler } from './running.handler';

export interface RunningTariffService extends RunningService {
  catalogueConsumer: RunningService['consumers'][number];
  pricingConsumer: RunningService['consumers'][number];
  /** the running-cost consumer (tariff selected at start, cost estimates while charging) */
  runningConsumer: RunningService['consumers'][number];
}

/**
 * Starts the tariff service: the catalogue API (tariff versions and assignments, emitted to
 * tariff.events through the outbox), a consumer that projects tariff.events and the registry topics
 * into its tables, and a consumer that prices every session.ended into a CDR on billing.events.
 */
export async function startTariffService(
  cfg: TariffServiceConfig,
  logger: Logger = createLogger('tariff-service', cfg.LOG_LEVEL),
  opts: {
    /** the pricing function (default buildCdr; tests inject one that throws or builds a bad CDR) */ price?: Pricer;
  } = {},
): Promise<RunningTariffService> {
  const catalogue = systemCatalogue().withTopics({
    [Topics.tariffEvents]: cfg.TARIFF_EVENTS_TOPIC,
    [Topics.sessionEvents]: cfg.SESSION_EVENTS_TOPIC,
    [Topics.billingEvents]: cfg.BILLING_EVENTS_TOPIC,
    [Topics.registryStations]: cfg.REGISTRY_STATIONS_TOPIC,
    [Topics.registryTokens]: cfg.REGISTRY_TOKENS_TOPIC,
  });
  const mine = [
    Topics.tariffEvents,
    Topics.sessionEvents,
    Topics.billingEvents,
    Topics.registryStations,
    Topics.registryTokens,
  ] as string[];
  const specs = TOPIC_SPECS.filter((t) => mine.includes(t.name)).map((t) => ({ ...t, name: catalogue.topic(t.name) }));
  const catalogueGroup = `${cfg.TARIFF_CONSUMER_GROUP}.catalogue`;
  const pricingGroup = `${cfg.TARIFF_CONSUMER_GROUP}.pricing`;
  const runningGroup = `${cfg.TARIFF_CONSUMER_GROUP}.running`;
  const pricing = makePricingConsumer(catalogue, cfg, { price: opts.price });
  const running = new RunningCostHandler(catalogue, cfg);
  // the pricing group has no effect for starts and updates: it passes them over unread (by their `event-type`
  // header), which leaves it a fraction of session.events; a session.ended both groups read is decoded once
  const pricingSkips = new Set(['session.started', 'session.updated']);
  const decodes = new SharedDecodes({
    topics: [cfg.SESSION_EVENTS_TOPIC],
    readers: (type) => (type !== undefined && pricingSkips.has(type) ? 1 : 2),
  });
  const svc = await startService(
    {
      name: 'tariff-service',
      title: 'CSMS tariff service',
      description: 'OCPI 2.2.1 tariff catalogue, pricing and CDRs',
      databaseUrl: cfg.DATABASE_URL,
      migrations: tariffServiceMigrations,
      http: { port: cfg.HTTP_PORT, host: cfg.HTTP_HOST },
      ...sharedSettings(cfg),
      topics: [...specs, deadLetterSpec(catalogueGroup), deadLetterSpec(pricingGroup), deadLetterSpec(runningGroup)],
      consumers: () => [
        {
          name: catalogueGroup,
          topics: [cfg.TARIFF_EVENTS_TOPIC, cfg.REGISTRY_STATIONS_TOPIC, cfg.REGISTRY_TOKENS_TOPIC],
          catalogue,
          controller: CatalogueConsumer,
        },
        // prices only once the catalogue and registry copies hold everything already in their topics
        {
          name: pricingGroup,
          topics: [cfg.SESSION_EVENTS_TOPIC],
          catalogue,
          controller: PricingConsumer,
          skipTypes: pricingSkips,
          sharedDecodes: decodes,
          chunkSize: cfg.TARIFF_CHUNK_SIZE,
          startAfterCaughtUp: [catalogueGroup],
          partitionsConsumedConcurrently: cfg.KAFKA_PARTITIONS,
        },
        // the tariff at each start and running-cost estimates: a group of its own, after the catalogue too
        {
          name: runningGroup,
          topics: [cfg.SESSION_EVENTS_TOPIC],
          catalogue,
          controller: RunningCostConsumer,
          sharedDecodes: decodes,
          chunkSize: cfg.TARIFF_CHUNK_SIZE,
          startAfterCaughtUp: [catalogueGroup],
          partitionsConsumedConcurrently: cfg.KAFKA_PARTITIONS,
        },
      ],
      controllers: [CatalogueController, CdrsController, MeterKeysController],
      providers: ({ runtime }) => {
        const deps: CatalogueDeps = { catalogue, relay: runtime.relay, now: () => new Date() };
        return [
          { provide: CATALOGUE_DEPS, useValue: deps },
          { provide: TARIFF_CONFIG, useValue: cfg },
          { provide: PRICING, useValue: pricing },
          { provide: RUNNING, useValue: running },
        ];
      },
    },
    logger,
  );
  return {
    ...svc,
    catalogueConsumer: svc.consumers[0],
    pricingConsumer: svc.consumers[1],
    runningConsumer: svc.consumers[2],
  };
}
