import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import {
  AccountStandingChangedV1,
  EventCatalogue,
  StationRegisteredV1,
  StationRegisteredV2,
  StationRegisteredV3,
  TokenRegisteredV1,
  stationRegisteredV1ToV2,
  stationRegisteredV2ToV3,
  type AccountStanding,
  type StationRegistered,
  type TokenRegistered,
} from '@csms/contracts';
import { relaunchOnCrash } from '@csms/messaging';
import type { StationRecord, TokenRecord } from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';
import type { CredentialStore } from './credentials';

// v1 and v2 records (before locations, with a password hash) are upcast to v3 on reading: the hash is dropped
const catalogue = new EventCatalogue(
  [StationRegisteredV1, StationRegisteredV2, StationRegisteredV3, TokenRegisteredV1, AccountStandingChangedV1],
  [stationRegisteredV1ToV2, stationRegisteredV2ToV3],
);

/**
 * What the gateway needs of a station: authentication, time zone and the EVSE/connector ids it has seen, and
 * `answered`: its registry facts (revision, site, time zone, location, the EVSEs with their OCPI connector fields, as
 * the event has them), recorded with each call that starts a transaction so that billing and CDRs take the station as
 * it was then. The event carries no password hash: `passwordHash` is filled from the gateway's database (see
 * RegistryCache).
 */
export function stationFromEvent(p: StationRegistered['payload'], passwordHash: string | null): StationRecord {
  return {
    stationId: p.stationId,
    securityProfile: p.securityProfile,
    passwordHash,
    certificateCn: p.certificateCn,
    siteId: p.siteId,
    timeZone: p.timeZone,
    evses: p.evses.map((e) => ({
      evseId: e.evseId,
      connectors: e.connectors.map((c) => ({ connectorId: c.connectorId })),
    })),
    enabled: p.enabled,
    answered: {
      revision: p.revision,
      siteId: p.siteId,
      timeZone: p.timeZone,
      location: p.location,
      evses: p.evses,
    },
  };
}

export function tokenFromEvent(p: TokenRegistered['payload']): TokenRecord {
  return {
    uid: p.uid,
    type: p.type,
    status: p.status,
    expiresAt: p.expiresAt,
    groupId: p.groupId,
    billingAccountId: p.billingAccountId,
    revision: p.revision,
  };
}

interface KnownStation {
  /** the record without credentials (passwordHash null) */
  record: StationRecord;
  passwordSet: boolean;
  credentialRevision: number;
}

/**
 * The station and token registry in memory, fed by the compacted registry topics read from the
 * beginning (every instance holds all of it), so that the upgrade's authentication, BootNotification and
 * Authorize never wait for the database. `start()` resolves once the topics have been read up to the
 * end they had when it was called.
 *
 * Credentials are not on the topic: `start()` loads every station's password hash and credential revision
 * from the gateway's database first; an event whose credential revision is newer than the one loaded makes the
 * cache re-read that station's row in the background (the outbox publishes after the commit, so the row is
 * there). Until then the station's credentials are not ready and the upgrade awaits `loadCredentials` (the only
 * case in which it waits for the database).
 */
export class RegistryCache {
  private readonly stations = new Map<string, KnownStation>();
  /** hash and the credential revision it is at least as new as, per station */
  private readonly credentials = new Map<string, { hash: string | null; revision: number }>();
  /** reads in flight, with the credential revision each was started for */
  private readonly loading = new Map<string, { wanted: number; done: Promise<void> }>();
  /** stations whose latest record on the topic is older than v3 (it may carry a password hash there) */
  private readonly legacy = new Map<string, StationRegistered['payload']>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** billing accounts that cannot pay (registry.accounts): their tokens are answered Blocked */
  private readonly blockedAccounts = new Set<string>();
  private readonly revisions = new Map<string, number>();
  private consumer?: Consumer;
  private loaded = false;
  private crashed: string | undefined;
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topics: { stations: string; tokens: string; accounts?: string },
    private readonly instance: string,
    private readonly logger: Logger,
    private readonly store: CredentialStore,
  ) {}

  /** The station with its password hash when its credentials are loaded (else `passwordHash` is null: see `credentialsReady`). */
  station(id: string): StationRecord | undefined {
    const known = this.stations.get(id);
    if (!known) return undefined;
    if (!known.passwordSet) return known.record;
    const c = this.credentials.get(id);
    return c && c.revision >= known.credentialRevision ? { ...known.record, passwordHash: c.hash } : known.record;
  }

  /** The station's credentials in memory are at least as new as its latest registry event says. */
  credentialsReady(id: string): boolean {
    const known = this.stations.get(id);
    if (!known || !known.passwordSet) return true;
    const c = this.credentials.get(id);
    return c !== undefined && c.revision >= known.credentialRevision;
  }

  /**
   * Reads the station's credentials from the database (one read per station at a time; a read started for an
   * older credential revision is followed by another).
   */
  loadCredentials(id: string): Promise<void> {
    const wanted = this.stations.get(id)?.credentialRevision ?? 0;
    const running = this.loading.get(id);
    if (running) return running.wanted >= wanted ? running.done : running.done.then(() => this.loadCredentials(id));
    const done = this.store
      .one(id)
      .then((row) => {
        // the row, read after the event, is at least as new as it (no reload loop if the two disagree); no row:
        // no password (the station was deleted, its deletion not read yet)
        this.credentials.set(id, {
          hash: row?.passwordHash ?? null,
          revision: Math.max(row?.credentialRevision ?? 0, wanted),
        });
      })
      .finally(() => this.loading.delete(id));
    this.loading.set(id, { wanted, done });
    return done;
  }

  /** Stations whose latest record on the topic is from before v3 (to publish again, without the hash). */
  legacyStations(): StationRegistered['payload'][] {
    return [...this.legacy.values()];
  }

  /** The token, with `accountBlocked` when its billing account cannot pay. */
  token(uid: string): TokenRecord | undefined {
    const t = this.tokens.get(uid);
    if (t === undefined || t.billingAccountId === null || !this.blockedAccounts.has(t.billingAccountId)) return t;
    return { ...t, accountBlocked: true };
  }

  health(): { ok: boolean; detail?: unknown } {
    return {
      ok: this.loaded && !this.crashed,
      detail: {
        stations: this.stations.size,
        tokens: this.tokens.size,
        blockedAccounts: this.blockedAccounts.size,
        crashed: this.crashed,
      },
    };
  }

  /** Applies one registry event (also used for read-your-writes after a local REST change). */
  apply(raw: unknown): void {
    const written = (raw as { version?: unknown } | null)?.version;
    const env = catalogue.parse(raw);
    const key = `${env.type}|${env.key}`;
    const payload = env.payload as { revision: number; deleted: boolean };
    if ((this.revisions.get(key) ?? 0) > payload.revision) return; // an older state, e.g. our own write already applied
    this.revisions.set(key, payload.revision);
    if (env.type === StationRegisteredV3.type) {
      const p = env.payload as StationRegistered['payload'];
      if (typeof written === 'number' && written < StationRegisteredV3.version) this.legacy.set(p.stationId, p);
      else this.legacy.delete(p.stationId);
      if (p.deleted) {
        this.stations.delete(p.stationId);
        this.credentials.delete(p.stationId);
        return;
      }
      this.stations.set(p.stationId, {
        record: stationFromEvent(p, null),
        passwordSet: p.passwordSet,
        credentialRevision: p.credentialRevision,
      });
      if (!this.credentialsReady(p.stationId)) {
        // the password changed: re-read the row now, so that the next upgrade finds it in memory
        this.loadCredentials(p.stationId).catch((e: unknown) =>
          this.logger.warn(
            { err: e, stationId: p.stationId },
            'station credentials not reloaded; the next upgrade reads them',
          ),
        );
      }
    } else if (env.type === AccountStandingChangedV1.type) {
      const p = env.payload as AccountStanding['payload'];
      if (p.canPay) this.blockedAccounts.delete(p.accountId);
      else this.blockedAccounts.add(p.accountId);
    } else {
      const p = env.payload as TokenRegistered['payload'];
      if (p.deleted) this.tokens.delete(p.uid);
      else this.tokens.set(p.uid, tokenFromEvent(p));
    }
  }

  async start(): Promise<void> {
    for (const c of await this.store.all())
      this.credentials.set(c.stationId, { hash: c.passwordHash, revision: c.credentialRevision });
    const topics = [this.topics.stations, this.topics.tokens, ...(this.topics.accounts ? [this.topics.accounts] : [])];
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
    await this.launch(topics, (topic, partition, offset) => {
      const k = `${topic}/${partition}`;
      const t = target.get(k);
      if (t !== undefined && offset >= t) {
        target.delete(k);
        check();
      }
    });
    await done;
  }

  /** Starts a consumer of the registry topics from the beginning; `seen` hears of each record's position. */
  private async launch(topics: string[], seen?: (topic: string, partition: number, offset: number) => void) {
    // a group of its own per instance and start: every instance reads every partition from the beginning
    const consumer = this.kafka.consumer({
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
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      this.crashed = String((e.payload as { error?: Error }).error?.message ?? 'crashed');
    });
    // kafkajs gives up without a restart on an error it does not count as retriable (e.g. around a broker
    // restart): the registry would stay stale and the gateway unready for good, so a new consumer reads it again
    // (records already applied apply again as no change)
    relaunchOnCrash(consumer, {
      name: 'registry consumer',
      logger: this.logger,
      running: () => !this.stopped,
      current: () => this.consumer,
      launch: () => this.launch(topics),
    });
    // kafkajs restarted it after a crash (e.g. the broker was away) and it is back in its group
    consumer.on(consumer.events.GROUP_JOIN, () => (this.crashed = undefined));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        if (message.value) {
          try {
            this.apply(JSON.parse(message.value.toString('utf8')));
          } catch (e) {
            this.logger.error(
              { err: e, topic, partition, offset: message.offset },
              'registry record ignored: contract violation',
            );
          }
        }
        seen?.(topic, partition, Number(message.offset));
      },
    });
  }

  /** Offsets of a topic; retried while a just-created topic has no leader yet (a retriable kafkajs error). */
  private async offsetsOf(
    admin: ReturnType<Kafka['admin']>,
    topic: string,
  ): Promise<Array<{ partition: number; high: string; low: string }>> {
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
