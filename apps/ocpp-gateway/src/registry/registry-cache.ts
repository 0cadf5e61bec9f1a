import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { EventCatalogue, StationRegisteredV1, StationRegisteredV2, TokenRegisteredV1, stationRegisteredV1ToV2, type StationRegistered, type TokenRegistered } from '@csms/contracts';
import type { StationRecord, TokenRecord } from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';

// v1 records (before locations) are upcast to v2 on reading
const catalogue = new EventCatalogue([StationRegisteredV1, StationRegisteredV2, TokenRegisteredV1], [stationRegisteredV1ToV2]);

/**
 * What the gateway needs of a station: authentication, time zone and the EVSE/connector ids it has seen.
 * The location and the OCPI connector fields are for CDRs (tariff service) and are not kept in memory.
 */
export function stationFromEvent(p: StationRegistered['payload']): StationRecord {
  return {
    stationId: p.stationId,
    securityProfile: p.securityProfile,
    passwordHash: p.passwordHash,
    certificateCn: p.certificateCn,
    siteId: p.siteId,
    timeZone: p.timeZone,
    evses: p.evses.map((e) => ({ evseId: e.evseId, connectors: e.connectors.map((c) => ({ connectorId: c.connectorId })) })),
    enabled: p.enabled,
  };
}

export function tokenFromEvent(p: TokenRegistered['payload']): TokenRecord {
  return { uid: p.uid, type: p.type, status: p.status, expiresAt: p.expiresAt, groupId: p.groupId, billingAccountId: p.billingAccountId };
}

/**
 * The station and token registry in memory, fed by the compacted registry topics read from the
 * beginning (every instance holds all of it), so that the upgrade's authentication, BootNotification and
 * Authorize never wait for the database. `start()` resolves once the topics have been read up to the
 * end they had when it was called.
 */
export class RegistryCache {
  private readonly stations = new Map<string, StationRecord>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly revisions = new Map<string, number>();
  private consumer?: Consumer;
  private loaded = false;
  private crashed: string | undefined;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: { stations: string; tokens: string },
    private readonly instance: string,
    private readonly logger: Logger,
  ) {}

  station(id: string): StationRecord | undefined {
    return this.stations.get(id);
  }

  token(uid: string): TokenRecord | undefined {
    return this.tokens.get(uid);
  }

  health(): { ok: boolean; detail?: unknown } {
    return { ok: this.loaded && !this.crashed, detail: { stations: this.stations.size, tokens: this.tokens.size, crashed: this.crashed } };
  }

  /** Applies one registry event (also used for read-your-writes after a local REST change). */
  apply(raw: unknown): void {
    const env = catalogue.parse(raw);
    const key = `${env.type}|${env.key}`;
    const payload = env.payload as { revision: number; deleted: boolean };
    if ((this.revisions.get(key) ?? 0) > payload.revision) return; // an older state, e.g. our own write already applied
    this.revisions.set(key, payload.revision);
    if (env.type === StationRegisteredV2.type) {
      const p = env.payload as StationRegistered['payload'];
      if (p.deleted) this.stations.delete(p.stationId);
      else this.stations.set(p.stationId, stationFromEvent(p));
    } else {
      const p = env.payload as TokenRegistered['payload'];
      if (p.deleted) this.tokens.delete(p.uid);
      else this.tokens.set(p.uid, tokenFromEvent(p));
    }
  }

  async start(): Promise<void> {
    const topics = [this.topics.stations, this.topics.tokens];
    const admin = this.kafka.admin();
    await admin.connect();
    const target = new Map<string, number>(); // "topic/partition" -> offset of the last record at start
    try {
      for (const topic of topics) {
        for (const p of await this.offsetsOf(admin, topic)) {
          if (Number(p.high) > Number(p.low)) target.set(`${topic}/${p.partition}`, Number(p.high) - 1);
        }
      }
    } finally {
      await admin.disconnect();
    }
    let caughtUp!: () => void;
    const done = new Promise<void>((r) => (caughtUp = r));
    const check = () => {
      if (target.size === 0) {
        this.loaded = true;
        caughtUp();
      }
    };
    check();
    // a group of its own per instance and start: every instance reads every partition from the beginning
    this.consumer = this.kafka.consumer({
      groupId: `ocpp-gateway-registry-${this.instance}-${randomUUID().slice(0, 8)}`,
      maxWaitTimeInMs: 200,
      // a group of one member: after a crash (of the instance or the broker) the broker waits for the dead
      // member's session to time out before the group can be joined again; 10 s, not kafkajs's 30 s
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      allowAutoTopicCreation: false,
      // a crash while stopping (e.g. during a rejoin after a broker restart) must not restart it
      retry: { restartOnFailure: async () => !this.stopped },
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.crashed = String((e.payload as { error?: Error }).error?.message ?? 'crashed');
    });
    // kafkajs restarted it after a crash (e.g. the broker was away) and it is back in its group
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => (this.crashed = undefined));
    await this.consumer.connect();
    await this.consumer.subscribe({ topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (message.value) {
          try {
            this.apply(JSON.parse(message.value.toString('utf8')));
          } catch (e) {
            this.logger.error({ err: e, topic, partition, offset: message.offset }, 'registry record ignored: contract violation');
          }
        }
        const k = `${topic}/${partition}`;
        const t = target.get(k);
        if (t !== undefined && Number(message.offset) >= t) {
          target.delete(k);
          check();
        }
      },
    });
    await done;
  }

  /** Offsets of a topic; retried while a just-created topic has no leader yet (a retriable kafkajs error). */
  private async offsetsOf(admin: ReturnType<Kafka['admin']>, topic: string): Promise<Array<{ partition: number; high: string; low: string }>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await admin.fetchTopicOffsets(topic);
      } catch (e) {
        if (!(e as { retriable?: boolean }).retriable || attempt >= 20) throw e;
        this.logger.warn({ err: e, topic, attempt }, 'topic offsets not available yet; retrying');
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.disconnect();
  }
}
