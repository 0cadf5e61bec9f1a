import type { EntityManager } from 'typeorm';
import type {
  Envelope,
  MeterKeySet,
  SignaturePolicySet,
  OcpiTariffDocument,
  RegistryEvse,
  StationLocation,
  TariffAssignmentSet,
  TariffVersionPublished,
  StationRegistered,
  TokenRegistered,
} from '@csms/contracts';
import type {
  MeterKeyFact,
  SignaturePolicyFact,
  StationFacts,
  StoredVersion,
  TariffAssignment,
  TokenFacts,
} from '@csms/billing';

export type { StationFacts, StoredVersion, TokenFacts };

/** The second half of a statement whose `added` names the catalogue rows it inserted: one revision more if any. */
const BUMP_REVISION = 'update catalogue_revision set revision = revision + 1 where exists (select 1 from added)';

/** The catalogue's revision (`TariffCatalogueRevision1765600000100`): the same revision, the same versions and assignments. */
export async function catalogueRevision(m: EntityManager): Promise<string> {
  const rows: Array<{ revision: string }> = await m.query('select revision::text as revision from catalogue_revision');
  return rows[0].revision;
}

/**
 * Projections of the catalogue and registry events into tables. Idempotent (keyed upserts): the API
 * applies its own events in the transaction that emits them, and the consumer of the topics applies
 * them again (after a rebuild, for the first time) with the same result.
 */
export async function applyCatalogueEvent(m: EntityManager, env: Envelope): Promise<void> {
  switch (env.type) {
    case 'tariff.version_published': {
      // v1 records arrive upcast to v2 (publishedBy null)
      const p = (env as TariffVersionPublished).payload;
      await m.query(
        `with added as (
           insert into tariff_versions (tariff_id, version, effective_from, published_at, content_hash, tariff, published_by, published_by_role) values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (tariff_id, version) do nothing returning 1)
         ${BUMP_REVISION}`,
        [
          p.tariffId,
          p.version,
          p.effectiveFrom,
          p.publishedAt,
          p.contentHash,
          JSON.stringify(p.tariff),
          p.publishedBy?.keyName ?? null,
          p.publishedBy?.role ?? null,
        ],
      );
      return;
    }
    case 'tariff.assignment_set': {
      // v1 records arrive upcast to v2 (setBy null)
      const p = (env as TariffAssignmentSet).payload;
      await m.query(
        `with added as (
           insert into tariff_assignments (assignment_id, tariff_id, scope, effective_from, set_at, sequence, removed, set_by, set_by_role) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (assignment_id) do nothing returning 1)
         ${BUMP_REVISION}`,
        [
          p.assignmentId,
          p.tariffId,
          JSON.stringify(p.scope),
          p.effectiveFrom,
          p.setAt,
          p.sequence,
          p.removed,
          p.setBy?.keyName ?? null,
          p.setBy?.role ?? null,
        ],
      );
      return;
    }
    case 'registry.station_registered': {
      // v1 records arrive upcast to v2 (location null)
      const p = (env as StationRegistered).payload;
      if (p.deleted) {
        await m.query('delete from stations where station_id = $1 and revision <= $2', [p.stationId, p.revision]);
        return;
      }
      await m.query(
        `insert into stations (station_id, site_id, time_zone, revision, location, evses) values ($1, $2, $3, $4, $5, $6)
         on conflict (station_id) do update set site_id = excluded.site_id, time_zone = excluded.time_zone, revision = excluded.revision,
           location = excluded.location, evses = excluded.evses
         where stations.revision < excluded.revision`,
        [
          p.stationId,
          p.siteId,
          p.timeZone,
          p.revision,
          p.location === null ? null : JSON.stringify(p.location),
          JSON.stringify(p.evses),
        ],
      );
      return;
    }
    case 'registry.token_registered': {
      const p = (env as TokenRegistered).payload;
      if (p.deleted) {
        await m.query('delete from tokens where uid = $1 and revision <= $2', [p.uid, p.revision]);
        return;
      }
      await m.query(
        `insert into tokens (uid, group_id, billing_account_id, revision) values ($1, $2, $3, $4)
         on conflict (uid) do update set group_id = excluded.group_id, billing_account_id = excluded.billing_account_id, revision = excluded.revision
         where tokens.revision < excluded.revision`,
        [p.uid, p.groupId, p.billingAccountId, p.revision],
      );
      return;
    }
    case 'meter.key_set': {
      const p = (env as MeterKeySet).payload;
      await m.query(
        `insert into meter_keys (sequence, key_id, station_id, evse_id, public_key, meter_serial, valid_from, status, set_at, set_by, set_by_role)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (sequence) do nothing`,
        [
          p.sequence,
          p.keyId,
          p.stationId,
          p.evseId,
          p.publicKey,
          p.meterSerial,
          p.validFrom,
          p.status,
          p.setAt,
          p.setBy?.keyName ?? null,
          p.setBy?.role ?? null,
        ],
      );
      return;
    }
    case 'meter.signature_policy_set': {
      const p = (env as SignaturePolicySet).payload;
      await m.query(
        `insert into signature_policies (sequence, scope, invalid_signature, trust_station_keys, set_at, set_by, set_by_role)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (sequence) do nothing`,
        [
          p.sequence,
          JSON.stringify(p.scope),
          p.invalidSignature,
          p.trustStationKeys,
          p.setAt,
          p.setBy?.keyName ?? null,
          p.setBy?.role ?? null,
        ],
      );
      return;
    }
    default:
      return; // other events on these topics are not the catalogue's business
  }
}

export interface VersionRow {
  tariff_id: string;
  version: number;
  effective_from: Date;
  published_at: Date;
  content_hash: string;
  tariff: OcpiTariffDocument;
  published_by: string | null;
  published_by_role: Writer['role'] | null;
}

/** Who made a catalogue write: the API key's name and role; null for records written before it was recorded. */
export type Writer = NonNullable<TariffVersionPublished['payload']['publishedBy']>;

/** `{ keyName, role }` of a row's writer columns, or null. */
export function writerOf(keyName: string | null, role: Writer['role'] | null): Writer | null {
  return keyName !== null && role !== null ? { keyName, role } : null;
}

/** A version as the API shows it: with who published it (null: published before this was recorded). */
export interface VersionView extends StoredVersion {
  publishedBy: Writer | null;
}

export const toVersion = (r: VersionRow): VersionView => ({
  tariffId: r.tariff_id,
  version: r.version,
  effectiveFrom: r.effective_from.toISOString(),
  publishedAt: r.published_at.toISOString(),
  contentHash: r.content_hash,
  tariff: r.tariff,
  publishedBy: writerOf(r.published_by, r.published_by_role),
});

export async function versionsOf(m: EntityManager, tariffId?: string): Promise<VersionView[]> {
  const rows: VersionRow[] = tariffId
    ? await m.query('select * from tariff_versions where tariff_id = $1 order by version', [tariffId])
    : await m.query('select * from tariff_versions order by tariff_id, version');
  return rows.map(toVersion);
}

export async function versionOf(m: EntityManager, tariffId: string, version: number): Promise<VersionView | undefined> {
  const rows: VersionRow[] = await m.query('select * from tariff_versions where tariff_id = $1 and version = $2', [
    tariffId,
    version,
  ]);
  return rows[0] && toVersion(rows[0]);
}

export async function allAssignments(m: EntityManager): Promise<TariffAssignment[]> {
  const rows: Array<{
    assignment_id: string;
    tariff_id: string;
    scope: TariffAssignment['scope'];
    effective_from: Date;
    sequence: number;
    removed: boolean;
  }> = await m.query(
    'select assignment_id, tariff_id, scope, effective_from, sequence, removed from tariff_assignments order by sequence',
  );
  return rows.map((r) => ({
    assignmentId: r.assignment_id,
    tariffId: r.tariff_id,
    scope: r.scope,
    effectiveFrom: r.effective_from.toISOString(),
    sequence: r.sequence,
    removed: r.removed,
  }));
}

/** What the registry copy knows of these stations, in one statement (a station the registry does not know maps to undefined). */
export async function stationsOf(
  m: EntityManager,
  stationIds: readonly string[],
): Promise<Map<string, StationFacts | undefined>> {
  const out = new Map<string, StationFacts | undefined>(stationIds.map((id) => [id, undefined]));
  if (stationIds.length === 0) return out;
  const rows: Array<{
    station_id: string;
    site_id: string | null;
    time_zone: string;
    location: StationLocation | null;
    evses: RegistryEvse[];
  }> = await m.query(
    'select station_id, site_id, time_zone, location, evses from stations where station_id = any($1::text[])',
    [stationIds],
  );
  for (const r of rows)
    out.set(r.station_id, { siteId: r.site_id, timeZone: r.time_zone, location: r.location, evses: r.evses });
  return out;
}

/** What the registry copy knows of these tokens (group, billing account), in one statement (an unknown token maps to undefined). */
export async function tokensOf(
  m: EntityManager,
  uids: readonly string[],
): Promise<Map<string, TokenFacts | undefined>> {
  const out = new Map<string, TokenFacts | undefined>(uids.map((uid) => [uid, undefined]));
  if (uids.length === 0) return out;
  const rows: Array<{ uid: string; group_id: string | null; billing_account_id: string | null }> = await m.query(
    'select uid, group_id, billing_account_id from tokens where uid = any($1::text[])',
    [uids],
  );
  for (const r of rows) out.set(r.uid, { groupId: r.group_id, accountId: r.billing_account_id });
  return out;
}

/** A meter key write as the API shows it. */
export interface MeterKeyView extends MeterKeyFact {
  setAt: string;
  setBy: Writer | null;
}

export interface MeterKeyRow {
  sequence: number;
  key_id: string;
  station_id: string;
  evse_id: number;
  public_key: string;
  meter_serial: string | null;
  valid_from: Date;
  status: MeterKeyFact['status'];
  set_at: Date;
  set_by: string | null;
  set_by_role: Writer['role'] | null;
}

export const toMeterKey = (r: MeterKeyRow): MeterKeyView => ({
  keyId: r.key_id,
  stationId: r.station_id,
  evseId: r.evse_id,
  publicKey: r.public_key,
  meterSerial: r.meter_serial,
  validFrom: r.valid_from.toISOString(),
  status: r.status,
  sequence: r.sequence,
  setAt: r.set_at.toISOString(),
  setBy: writerOf(r.set_by, r.set_by_role),
});

/** Every meter key write (of these stations, when given), in the order they were made. */
export async function meterKeysOf(m: EntityManager, stationIds?: readonly string[]): Promise<MeterKeyView[]> {
  if (stationIds?.length === 0) return [];
  const rows: MeterKeyRow[] = stationIds
    ? await m.query('select * from meter_keys where station_id = any($1::text[]) order by sequence', [stationIds])
    : await m.query('select * from meter_keys order by sequence');
  return rows.map(toMeterKey);
}

/** A signature policy write as the API shows it. */
export interface SignaturePolicyView extends SignaturePolicyFact {
  setAt: string;
  setBy: Writer | null;
}

export interface SignaturePolicyRow {
  sequence: number;
  scope: SignaturePolicyFact['scope'];
  invalid_signature: SignaturePolicyFact['invalidSignature'];
  trust_station_keys: boolean;
  set_at: Date;
  set_by: string | null;
  set_by_role: Writer['role'] | null;
}

export const toSignaturePolicy = (r: SignaturePolicyRow): SignaturePolicyView => ({
  scope: r.scope,
  invalidSignature: r.invalid_signature,
  trustStationKeys: r.trust_station_keys,
  sequence: r.sequence,
  setAt: r.set_at.toISOString(),
  setBy: writerOf(r.set_by, r.set_by_role),
});

/** Every signature policy write, in the order they were made. */
export async function signaturePolicies(m: EntityManager): Promise<SignaturePolicyView[]> {
  const rows: SignaturePolicyRow[] = await m.query('select * from signature_policies order by sequence');
  return rows.map(toSignaturePolicy);
}
