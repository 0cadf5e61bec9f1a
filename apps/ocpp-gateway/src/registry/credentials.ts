import type { DataSource } from 'typeorm';

/** A station's credentials as the gateway's database holds them (never on a topic). */
export interface StationCredentials {
  stationId: string;
  /** scrypt hash of the Basic-auth password; null: none (profile 3) */
  passwordHash: string | null;
  /** the station revision at which the password was last set (0: before credential revisions, or never) */
  credentialRevision: number;
}

/** Where gateway instances read credentials: the registry's `stations` table, shared by the instances of a deployment. */
export interface CredentialStore {
  all(): Promise<StationCredentials[]>;
  one(stationId: string): Promise<StationCredentials | null>;
}

interface Row {
  station_id: string;
  password_hash: string | null;
  credential_revision: string | number;
}
const toCredentials = (r: Row): StationCredentials => ({
  stationId: r.station_id,
  passwordHash: r.password_hash,
  credentialRevision: Number(r.credential_revision),
});

export function databaseCredentials(ds: DataSource): CredentialStore {
  return {
    all: async () =>
      ((await ds.query('select station_id, password_hash, credential_revision from stations')) as Row[]).map(
        toCredentials,
      ),
    one: async (stationId) => {
      const [row]: Row[] = await ds.query(
        'select station_id, password_hash, credential_revision from stations where station_id = $1',
        [stationId],
      );
      return row ? toCredentials(row) : null;
    },
  };
}
