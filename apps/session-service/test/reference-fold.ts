import { systemCatalogue, type Envelope } from '@csms/contracts';
import { normalise, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { handle, initialState, sessionDecider, type SessionsState } from '@csms/sessions';
import type { CollectedRecord } from '@csms/testing';

/**
 * The pure pipeline (normaliser + decider) over the inbound log as it actually is in Kafka (with its
 * partitions and offsets): what the running service must have produced, event for event.
 */
export function referenceFold(
  inbound: CollectedRecord[],
  config: Parameters<typeof sessionDecider>[0] = {},
): Envelope[] {
  const catalogue = systemCatalogue();
  const decider = sessionDecider(config);
  const byPartition = new Map<number, CollectedRecord[]>();
  for (const r of inbound) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
  const out: Envelope[] = [];
  const states = new Map<string, SessionsState>();
  for (const records of byPartition.values()) {
    records.sort((a, b) => Number(a.offset) - Number(b.offset));
    for (const r of records) {
      const env = catalogue.decode(r.value);
      const record = env.payload as OcppInboundRecord;
      const res = normalise(record, { eventId: env.id, topic: r.topic, partition: r.partition, offset: r.offset });
      if (!res.ok) throw res.error;
      let state = states.get(record.stationId) ?? initialState();
      const cmds = [
        ...(res.events.length ? [{ type: 'RecordChargerEvents' as const, events: res.events }] : []),
        { type: 'CloseStaleSessions' as const, now: record.receivedAt },
      ];
      for (const c of cmds) {
        const h = handle(c, state, decider);
        state = h.state;
        for (const e of h.events as Array<{ type: string }>)
          if (/^session\.(started|updated|ended)$/.test(e.type))
            out.push({ ...(e as object), source: 'session-service' } as Envelope);
      }
      states.set(record.stationId, state);
    }
  }
  return out;
}
