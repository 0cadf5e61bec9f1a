import type { DataSource } from 'typeorm';
import { isValidTransactionId, startTransactionIdentity, type StartTransactionIdentity } from '@csms/ocpp-gateway-core';

/**
 * OCPP 1.6 transactionIds from PostgreSQL: unique across instances and restarts (a sequence), and the
 * same id for a retried StartTransaction (a unique index on its identity). One round trip: on conflict
 * the existing row is returned (the sequence value drawn for it is skipped; gaps are harmless).
 */
export class TransactionIdStore {
  constructor(private readonly ds: DataSource) {}

  async assign(start: StartTransactionIdentity): Promise<number> {
    const identity = startTransactionIdentity(start);
    const [row]: Array<{ transaction_id: number }> = await this.ds.query(
      `insert into ocpp16_transactions (identity, station_id) values ($1, $2)
       on conflict (identity) do update set station_id = excluded.station_id
       returning transaction_id`,
      [identity, start.stationId],
    );
    if (!isValidTransactionId(row.transaction_id)) throw new Error(`transaction id ${row.transaction_id} out of range`);
    return row.transaction_id;
  }
}
