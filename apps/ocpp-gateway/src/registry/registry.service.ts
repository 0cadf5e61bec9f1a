import type { DataSource, EntityManager } from 'typeorm';
import {
  EventCatalogue,
  StationRegisteredV1,
  StationRegisteredV2,
  StationRegisteredV3,
  TokenRegisteredV1,
  Topics,
  deriveId,
  stationRegisteredV1ToV2,
  stationRegisteredV2ToV3,
  type RegistryEvse,
  type StationLocation,
  type StationRegistered,
  type TokenRegistered,
} from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import {
  defaultLocationId,
  withConnector,
  type SecurityProfile,
  type TokenStatus,
  type TokenType,
} from '@csms/ocpp-gateway-core';
import type { ActorRef } from '@csms/service-kit';
import type { RegistryCache } from './registry-cache';
import { generatePassword, hashPassword } from './password';

const catalogue = new EventCatalogue(
  [StationRegisteredV1, StationRegisteredV2, StationRegisteredV3, TokenRegisteredV1],
  [stationRegisteredV1ToV2, stationRegisteredV2ToV3],
);

/** A station's location as the API takes it: `id` may be left out (it is then the site id, else the station id). */
export type StationLocationInput = Omit<StationLocation, 'id'> & { id?: string };

export interface StationInput {
  securityProfile: SecurityProfile;
  password?: string;
  /** the gateway draws a random password (returned once, in the answer to this change) */
  generatePassword?: boolean;
  certificateCn?: string | null;
  siteId?: string | null;
  timeZone?: string;
  /** null or absent: no location (CDRs of the station are then flagged LOCATION_INCOMPLETE) */
  location?: StationLocationInput | null;
  evses?: RegistryEvse[];
  enabled?: boolean;
}

/** A station as the API shows it (never the password or its hash). */
export interface StationView {
  stationId: string;
  securityProfile: SecurityProfile;
  hasPassword: boolean;
  certificateCn: string | null;
  siteId: string | null;
  timeZone: string;
  location: StationLocation | null;
  evses: RegistryEvse[];
  enabled: boolean;
  revision: number;
  updatedAt: string;
  /** the API key of the last write (name and role); null: written before this was recorded, or by the station itself */
  updatedBy: ActorRef | null;
}

/** The answer to a change: the view, and the password only when the gateway generated it (this once). */
export type StationChanged = StationView & { password?: string };

export interface TokenInput {
  type: TokenType;
  status: TokenStatus;
  expiresAt?: string | null;
  groupId?: string | null;
  billingAccountId?: string | null;
}

export interface TokenView {
  uid: string;
  type: TokenType;
  status: TokenStatus;
  expiresAt: string | null;
  groupId: string | null;
  billingAccountId: string | null;
  revision: number;
  updatedAt: string;
  /** the API key of the last write (name and role); null: written before this was recorded */
  updatedBy: ActorRef | null;
}

export class RegistryError extends Error {
  constructor(
    readonly code: 'STATION_NOT_FOUND' | 'TOKEN_NOT_FOUND' | 'PASSWORD_REQUIRED',
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

interface StationRow {
  station_id: string;
  security_profile: number;
  password_hash: string | null;
  /** the revision at which the password was last set (0: before credential revisions) */
  credential_revision: string | number;
  certificate_cn: string | null;
  site_id: string | null;
  time_zone: string;
  location: StationLocation | null;
  evses: RegistryEvse[];
  enabled: boolean;
  revision: number;
  updated_at: Date;
  updated_by: string | null;
  updated_by_role: ActorRef['role'] | null;
}
interface TokenRow {
  uid: string;
  type: TokenType;
  status: TokenStatus;
  expires_at: Date | null;
  group_id: string | null;
  billing_account_id: string | null;
  revision: number;
  updated_at: Date;
  updated_by: string | null;
  updated_by_role: ActorRef['role'] | null;
}

function writerOf(r: { updated_by: string | null; updated_by_role: ActorRef['role'] | null }): ActorRef | null {
  return r.updated_by !== null && r.updated_by_role !== null
    ? { keyName: r.updated_by, role: r.updated_by_role }
    : null;
}

function stationView(r: StationRow): StationView {
  return {
    stationId: r.station_id,
    securityProfile: r.security_profile as SecurityProfile,
    hasPassword: r.password_hash !== null,
    certificateCn: r.certificate_cn,
    siteId: r.site_id,
    timeZone: r.time_zone,
    location: r.location,
    evses: r.evses,
    enabled: r.enabled,
    revision: Number(r.revision),
    updatedAt: r.updated_at.toISOString(),
    updatedBy: writerOf(r),
  };
}
function tokenView(r: TokenRow): TokenView {
  return {
    uid: r.uid,
    type: r.type,
    status: r.status,
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    groupId: r.group_id,
    billingAccountId: r.billing_account_id,
    revision: Number(r.revision),
    updatedAt: r.updated_at.toISOString(),
    updatedBy: writerOf(r),
  };
}

/**
 * The registry's write side: rows in the gateway's database and, in the same transaction, the
 * registry event in the outbox (ADR 0003), which the relay publishes to the compacted topic that every
 * gateway instance reads. The local cache applies the event at once (read-your-writes).
 */
export class RegistryService {
  /** the registry events with the topic names of this deployment (TOPIC_REGISTRY_*) */
  private readonly outboxCatalogue: EventCatalogue;

  constructor(
    private readonly ds: DataSource,
    private readonly relay: OutboxRelay,
    private readonly cache: RegistryCache,
    topics: { stations: string; tokens: string },
    private readonly source: string,
    /** scrypt cost of new password hashes (OCPP_PASSWORD_SCRYPT_N) */
    private readonly scryptN?: number,
  ) {
    this.outboxCatalogue = catalogue.withTopics({
      [Topics.registryStations]: topics.stations,
      [Topics.registryTokens]: topics.tokens,
    });
  }

  /** `hasher` makes the stored password hash (scrypt at the configured cost; a benchmark may pass its own). */
  async putStation(
    stationId: string,
    input: StationInput,
    by: ActorRef,
    hasher: (password: string) => Promise<string> = (pw) => hashPassword(pw, this.scryptN),
  ): Promise<StationChanged> {
    const generated = input.generatePassword ? generatePassword() : undefined;
    const password = generated ?? input.password;
    const passwordHash = password !== undefined ? await hasher(password) : undefined;
    return this.change(async (m) => {
      const [old]: StationRow[] = await m.query('select * from stations where station_id = $1 for update', [stationId]);
      const hash = passwordHash ?? old?.password_hash ?? null;
      if (input.securityProfile < 3 && hash === null) {
        throw new RegistryError(
          'PASSWORD_REQUIRED',
          'security profiles 1 and 2 need a password (Basic authentication)',
          '/password',
        );
      }
      const revision = await this.nextRevision(m);
      // a new hash (a password given or generated) is a new credential revision: the instances re-read the row
      const credentialRevision = passwordHash !== undefined ? revision : Number(old?.credential_revision ?? 0);
      const location = input.location
        ? { ...input.location, id: defaultLocationId(stationId, input.siteId ?? null, input.location.id) }
        : null;
      const [row]: StationRow[] = await m.query(
        `insert into stations (station_id, security_profile, password_hash, certificate_cn, site_id, time_zone, evses, enabled, revision, location, updated_by, updated_by_role, credential_revision)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (station_id) do update set security_profile = $2, password_hash = $3, certificate_cn = $4, site_id = $5,
           time_zone = $6, evses = $7, enabled = $8, revision = $9, location = $10, updated_by = $11, updated_by_role = $12, credential_revision = $13, updated_at = now()
         returning *`,
        [
          stationId,
          input.securityProfile,
          hash,
          input.certificateCn ?? null,
          input.siteId ?? null,
          input.timeZone ?? 'UTC',
          JSON.stringify(input.evses ?? []),
          input.enabled ?? true,
          revision,
          location === null ? null : JSON.stringify(location),
          by.keyName,
          by.role,
          credentialRevision,
        ],
      );
      const view: StationChanged = stationView(row);
      if (generated !== undefined) view.password = generated;
      return { event: this.stationEvent(row, false), result: view };
    });
  }

  /**
   * A connector a station reported (StatusNotification) that the registry does not list yet: added, with a
   * new revision and registry event. No-op for unknown stations and known connectors.
   */
  async recordConnector(stationId: string, evseId: number, connectorId: number): Promise<void> {
    await this.change(async (m) => {
      const [old]: StationRow[] = await m.query('select * from stations where station_id = $1 for update', [stationId]);
      if (!old) return null;
      // keeps what the registry knows of the EVSE and its other connectors (eMI3 id, OCPI connector fields)
      const evses = withConnector(old.evses, evseId, connectorId) as RegistryEvse[] | null;
      if (!evses) return null;
      const [[row]]: [StationRow[], number] = await m.query(
        'update stations set evses = $2, revision = $3, updated_by = null, updated_by_role = null, updated_at = now() where station_id = $1 returning *',
        [stationId, JSON.stringify(evses), await this.nextRevision(m)],
      );
      return { event: this.stationEvent(row, false), result: undefined };
    });
  }

  async deleteStation(stationId: string): Promise<void> {
    await this.change(async (m) => {
      // TypeORM returns [rows, affected] for a DELETE ... RETURNING
      const [[row]]: [StationRow[], number] = await m.query('delete from stations where station_id = $1 returning *', [
        stationId,
      ]);
      if (!row) throw new RegistryError('STATION_NOT_FOUND', `no station ${stationId}`);
      return {
        event: this.stationEvent({ ...row, revision: await this.nextRevision(m), updated_at: new Date() }, true),
        result: undefined,
      };
    });
  }

  async getStation(stationId: string): Promise<StationView> {
    const [row]: StationRow[] = await this.ds.query('select * from stations where station_id = $1', [stationId]);
    if (!row) throw new RegistryError('STATION_NOT_FOUND', `no station ${stationId}`);
    return stationView(row);
  }

  listStations(limit: number, cursor?: string): Promise<{ items: StationView[]; nextCursor: string | null }> {
    return this.page('stations', 'station_id', stationView, (v) => v.stationId, limit, cursor);
  }

  async putToken(uid: string, input: TokenInput, by: ActorRef): Promise<TokenView> {
    return this.change(async (m) => {
      const revision = await this.nextRevision(m);
      const [row]: TokenRow[] = await m.query(
        `insert into id_tokens (uid, type, status, expires_at, group_id, billing_account_id, revision, updated_by, updated_by_role)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (uid) do update set type = $2, status = $3, expires_at = $4, group_id = $5, billing_account_id = $6, revision = $7,
           updated_by = $8, updated_by_role = $9, updated_at = now()
         returning *`,
        [
          uid,
          input.type,
          input.status,
          input.expiresAt ?? null,
          input.groupId ?? null,
          input.billingAccountId ?? null,
          revision,
          by.keyName,
          by.role,
        ],
      );
      return { event: this.tokenEvent(row, false), result: tokenView(row) };
    });
  }

  async deleteToken(uid: string): Promise<void> {
    await this.change(async (m) => {
      const [[row]]: [TokenRow[], number] = await m.query('delete from id_tokens where uid = $1 returning *', [uid]);
      if (!row) throw new RegistryError('TOKEN_NOT_FOUND', `no token ${uid}`);
      return {
        event: this.tokenEvent({ ...row, revision: await this.nextRevision(m), updated_at: new Date() }, true),
        result: undefined,
      };
    });
  }

  async getToken(uid: string): Promise<TokenView> {
    const [row]: TokenRow[] = await this.ds.query('select * from id_tokens where uid = $1', [uid]);
    if (!row) throw new RegistryError('TOKEN_NOT_FOUND', `no token ${uid}`);
    return tokenView(row);
  }

  listTokens(limit: number, cursor?: string): Promise<{ items: TokenView[]; nextCursor: string | null }> {
    return this.page('id_tokens', 'uid', tokenView, (v) => v.uid, limit, cursor);
  }

  /** One page of a registry table in key order; the cursor is the last key of the previous page. */
  private async page<Row, View>(
    table: 'stations' | 'id_tokens',
    key: 'station_id' | 'uid',
    view: (r: Row) => View,
    keyOf: (v: View) => string,
    limit: number,
    cursor?: string,
  ) {
    const rows: Row[] = await this.ds.query(`select * from ${table} where ${key} > $1 order by ${key} limit $2`, [
      cursor ?? '',
      limit + 1,
    ]);
    const items = rows.slice(0, limit).map(view);
    return { items, nextCursor: rows.length > limit ? keyOf(items[items.length - 1]) : null };
  }

  private async nextRevision(m: EntityManager): Promise<number> {
    const [{ r }]: Array<{ r: string }> = await m.query(`select nextval('registry_revision_seq') as r`);
    return Number(r);
  }

  /**
   * One registry change: `write` changes the rows and returns the registry event with its result (or null:
   * nothing changed). The event goes to the outbox in the same transaction, then into this instance's cache
   * at once (other instances get it from the compacted topic).
   */
  private async change<T>(
    write: (m: EntityManager) => Promise<{ event: StationRegistered | TokenRegistered; result: T } | null>,
  ): Promise<T> {
    const done = await this.ds.transaction(async (m) => {
      const r = await write(m);
      if (r) await appendToOutbox(m, this.outboxCatalogue, [r.event], { maxMessageBytes: this.relay.maxMessageBytes });
      return r;
    });
    if (!done) return undefined as T;
    this.cache.apply(done.event);
    this.relay.nudge();
    return done.result;
  }

  /**
   * Publishes again, as v3 (no hash), every station whose latest record on the topic is older than v3 (the
   * cache knows them once started): a new revision of the row as it is, or of the deletion when the row is gone.
   * A station written since (its row is newer than that record) is left alone. Returns how many were published.
   */
  async republishLegacyStations(): Promise<number> {
    let published = 0;
    for (const p of this.cache.legacyStations()) {
      const done = await this.change(async (m) => {
        const [old]: StationRow[] = await m.query('select * from stations where station_id = $1 for update', [
          p.stationId,
        ]);
        if (old && Number(old.revision) > p.revision) return null;
        const revision = await this.nextRevision(m);
        if (!old) {
          const gone: StationRow = {
            station_id: p.stationId,
            security_profile: p.securityProfile,
            password_hash: null,
            credential_revision: 0,
            certificate_cn: p.certificateCn,
            site_id: p.siteId,
            time_zone: p.timeZone,
            location: p.location,
            evses: p.evses,
            enabled: p.enabled,
            revision,
            updated_at: new Date(),
            updated_by: null,
            updated_by_role: null,
          };
          return { event: this.stationEvent(gone, true), result: true };
        }
        const [[row]]: [StationRow[], number] = await m.query(
          'update stations set revision = $2, updated_at = now() where station_id = $1 returning *',
          [p.stationId, revision],
        );
        return { event: this.stationEvent(row, false), result: true };
      });
      if (done) published++;
    }
    return published;
  }

  private stationEvent(r: StationRow, deleted: boolean): StationRegistered {
    return catalogue.create(StationRegisteredV3, {
      id: deriveId('registry.station_registered', r.station_id, Number(r.revision)),
      key: r.station_id,
      occurredAt: r.updated_at.toISOString(),
      source: this.source,
      payload: {
        stationId: r.station_id,
        securityProfile: r.security_profile as SecurityProfile,
        passwordSet: !deleted && r.password_hash !== null,
        credentialRevision: Number(r.credential_revision),
        certificateCn: r.certificate_cn,
        siteId: r.site_id,
        timeZone: r.time_zone,
        location: r.location,
        evses: r.evses,
        enabled: r.enabled,
        deleted,
        revision: Number(r.revision),
      },
    });
  }

  private tokenEvent(r: TokenRow, deleted: boolean): TokenRegistered {
    return catalogue.create(TokenRegisteredV1, {
      id: deriveId('registry.token_registered', r.uid, Number(r.revision)),
      key: r.uid,
      occurredAt: r.updated_at.toISOString(),
      source: this.source,
      payload: {
        uid: r.uid,
        type: r.type,
        status: r.status,
        expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
        groupId: r.group_id,
        billingAccountId: r.billing_account_id,
        deleted,
        revision: Number(r.revision),
      },
    });
  }
}
