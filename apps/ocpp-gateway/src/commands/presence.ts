import type { DataSource } from 'typeorm';

/**
 * Which gateway instance holds each station's connection, in the database the instances share. A command
 * for a station held nowhere is answered `offline`.
 */
export class PresenceStore {
  constructor(
    private readonly ds: DataSource,
    private readonly instance: string,
  ) {}

  /** At start-up: rows an earlier run of this instance left behind (it died holding connections). */
  async clearOwn(): Promise<void> {
    await this.ds.query('delete from station_presence where instance = $1', [this.instance]);
  }

  async connected(stationId: string, connectionId: string, at: Date): Promise<void> {
    await this.ds.query(
      `insert into station_presence (station_id, instance, connection_id, connected_at) values ($1, $2, $3, $4)
       on conflict (station_id) do update set instance = $2, connection_id = $3, connected_at = $4`,
      [stationId, this.instance, connectionId, at],
    );
  }

  async disconnected(stationId: string, connectionId: string): Promise<void> {
    await this.ds.query('delete from station_presence where station_id = $1 and connection_id = $2', [
      stationId,
      connectionId,
    ]);
  }

  async holder(stationId: string): Promise<string | null> {
    const [row]: Array<{ instance: string }> = await this.ds.query(
      'select instance from station_presence where station_id = $1',
      [stationId],
    );
    return row?.instance ?? null;
  }
}
