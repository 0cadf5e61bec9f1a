/** Test builders: OCPP messages → normalised charger events → decider commands. Used by the specs and the bench. */
import { handleAll, mulberry32 } from '@csms/kernel';
import { normalise, normaliseOrThrow, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import type { SessionCommand } from './decider';
import { sessionDecider, type SessionDecider } from './decider';
import type { PublicSessionEvent, SessionDeciderEvent, SessionEnded, SessionUpdated } from './events';
import { isPublicSessionEvent } from './events';
import { initialState, type SessionsState } from './state';

export interface Sv16 {
  value: string;
  unit?: string;
  measurand?: string;
  context?: string;
  phase?: string;
  format?: string;
}

/** Builds the inbound records of one station; ids and receive times are deterministic. */
export function station(stationId = 'CS-1', protocol: 'ocpp1.6' | 'ocpp2.0.1' = 'ocpp1.6') {
  let n = 0;
  const rec = (action: string, payload: unknown, receivedAt: string, response?: unknown): SessionCommand[] => {
    n += 1;
    const record: OcppInboundRecord = {
      stationId,
      protocol,
      kind: 'call',
      messageId: `m${n}`,
      action,
      payload,
      receivedAt,
      connectionId: 'c1',
      gatewayInstance: 'gw',
      ...(response === undefined ? {} : { response }),
    };
    const { events } = normaliseOrThrow(record, {
      eventId: `${stationId}-rec-${n}`,
      topic: 'ocpp.inbound',
      partition: 0,
      offset: String(n),
    });
    return [{ type: 'RecordChargerEvents' as const, events }];
  };
  const recvAt = (ts: string, received?: string) => received ?? ts;
  return {
    start16: (o: {
      tx: number;
      connectorId?: number;
      meterStart: number;
      at: string;
      idTag?: string;
      receivedAt?: string;
    }) =>
      rec(
        'StartTransaction',
        { connectorId: o.connectorId ?? 1, idTag: o.idTag ?? 'TAG1', meterStart: o.meterStart, timestamp: o.at },
        recvAt(o.at, o.receivedAt),
        {
          transactionId: o.tx,
          idTagInfo: { status: 'Accepted' },
        },
      ),
    meter16: (o: { tx?: number; connectorId?: number; at: string; values: Sv16[]; receivedAt?: string }) =>
      rec(
        'MeterValues',
        {
          connectorId: o.connectorId ?? 1,
          ...(o.tx === undefined ? {} : { transactionId: o.tx }),
          meterValue: [{ timestamp: o.at, sampledValue: o.values }],
        },
        recvAt(o.at, o.receivedAt),
      ),
    wh16: (o: { tx: number; connectorId?: number; at: string; wh: string; receivedAt?: string }) =>
      rec(
        'MeterValues',
        {
          connectorId: o.connectorId ?? 1,
          transactionId: o.tx,
          meterValue: [{ timestamp: o.at, sampledValue: [{ value: o.wh }] }],
        },
        recvAt(o.at, o.receivedAt),
      ),
    stop16: (o: {
      tx: number;
      meterStop: number;
      at: string;
      idTag?: string;
      reason?: string;
      transactionData?: unknown[];
      receivedAt?: string;
    }) =>
      rec(
        'StopTransaction',
        {
          transactionId: o.tx,
          meterStop: o.meterStop,
          timestamp: o.at,
          ...(o.idTag ? { idTag: o.idTag } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
          ...(o.transactionData ? { transactionData: o.transactionData } : {}),
        },
        recvAt(o.at, o.receivedAt),
      ),
    status16: (o: { connectorId?: number; status: string; at: string; receivedAt?: string }) =>
      rec(
        'StatusNotification',
        { connectorId: o.connectorId ?? 1, status: o.status, errorCode: 'NoError', timestamp: o.at },
        recvAt(o.at, o.receivedAt),
      ),
    tx201: (o: {
      eventType: 'Started' | 'Updated' | 'Ended';
      tx?: string;
      seqNo: number;
      at: string;
      chargingState?: string;
      wh?: number | string;
      context?: string;
      unit?: string;
      multiplier?: number;
      offline?: boolean;
      triggerReason?: string;
      stoppedReason?: string;
      evseId?: number;
      power?: number;
      /** station time of the meter value, when it is not the message's timestamp */
      sampledAt?: string;
      receivedAt?: string;
    }) =>
      rec(
        'TransactionEvent',
        {
          eventType: o.eventType,
          timestamp: o.at,
          triggerReason:
            o.triggerReason ??
            (o.eventType === 'Updated'
              ? 'MeterValuePeriodic'
              : o.eventType === 'Started'
                ? 'Authorized'
                : 'StopAuthorized'),
          seqNo: o.seqNo,
          ...(o.offline ? { offline: true } : {}),
          transactionInfo: {
            transactionId: o.tx ?? 'TX-1',
            ...(o.chargingState ? { chargingState: o.chargingState } : {}),
            ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
          },
          ...(o.eventType === 'Started'
            ? { evse: { id: o.evseId ?? 1, connectorId: 1 }, idToken: { idToken: 'TOKEN', type: 'ISO14443' } }
            : {}),
          ...(o.wh !== undefined || o.power !== undefined
            ? {
                meterValue: [
                  {
                    timestamp: o.sampledAt ?? o.at,
                    sampledValue: [
                      ...(o.wh !== undefined
                        ? [
                            {
                              value: Number(o.wh),
                              context:
                                o.context ??
                                (o.eventType === 'Started'
                                  ? 'Transaction.Begin'
                                  : o.eventType === 'Ended'
                                    ? 'Transaction.End'
                                    : 'Sample.Periodic'),
                              ...(o.unit || o.multiplier !== undefined
                                ? {
                                    unitOfMeasure: {
                                      ...(o.unit ? { unit: o.unit } : {}),
                                      ...(o.multiplier !== undefined ? { multiplier: o.multiplier } : {}),
                                    },
                                  }
                                : {}),
                            },
                          ]
                        : []),
                      ...(o.power !== undefined
                        ? [{ value: o.power, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } }]
                        : []),
                    ],
                  },
                ],
              }
            : {}),
        },
        recvAt(o.at, o.receivedAt),
      ),
  };
}

export const closeStale = (now: string): SessionCommand[] => [{ type: 'CloseStaleSessions', now }];

/** Folds commands through the decider (the kernel's handleAll); returns every decided event and the final state. */
export function run(
  commands: SessionCommand[],
  state: SessionsState = initialState(),
  decider: SessionDecider = sessionDecider(),
): { events: SessionDeciderEvent[]; published: PublicSessionEvent[]; state: SessionsState } {
  const r = handleAll(decider, commands, state);
  return { events: r.events, published: r.events.filter(isPublicSessionEvent), state: r.state };
}

export const endedOf = (events: SessionDeciderEvent[]): SessionEnded[] =>
  events.filter((e): e is SessionEnded => e.type === 'session.ended');
export const updatesOf = (events: SessionDeciderEvent[]): SessionUpdated[] =>
  events.filter((e): e is SessionUpdated => e.type === 'session.updated');
export const typesOf = (events: SessionDeciderEvent[]): string[] =>
  events.filter(isPublicSessionEvent).map((e) => e.type);

/** Deterministic PRNG (mulberry32): the same seed always gives the same workload, whatever the library versions. */
const prng = mulberry32;

/**
 * A seeded, messy workload for one station: starts, samples (phases, power, current, kWh, fractions, signed,
 * unit mismatches), status changes, stops (with transactionData), retried starts, duplicates, seqNo gaps,
 * out-of-order and late deliveries, offline events, timestamps without offset or before 2015, and
 * CloseStaleSessions at event time. Used to pin the decider's exact output (decider.golden.spec.ts).
 */
export function randomStationCommands(seed: number, steps = 120): SessionCommand[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number): boolean => rnd() < p;
  const v201 = chance(0.5);
  const stationId = `CS-G${seed}`;
  const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
  let minute = 0;
  let n = 0;
  let wh = Math.floor(rnd() * 50_000);
  let tx = 1;
  let seq = 0;
  const out: SessionCommand[] = [];
  const iso = (m: number): string => new Date(T0 + m * 60_000).toISOString();
  const stamp = (m: number): string => {
    const s = iso(m);
    if (chance(0.03)) return s.slice(0, 19); // no offset
    if (chance(0.03)) return `${s.slice(0, 19)}+01:00`;
    if (chance(0.01)) return '2001-01-01T00:00:00Z'; // unset clock
    return s;
  };
  const received = (m: number): string =>
    chance(0.05) ? iso(m + 20 + Math.floor(rnd() * 600)) : chance(0.03) ? iso(m - 10) : iso(m);
  const records: Array<{ record: OcppInboundRecord; eventId: string }> = [];
  const send = (action: string, payload: unknown, at: number, response?: unknown): void => {
    n += 1;
    const record: OcppInboundRecord = {
      stationId,
      protocol: v201 ? 'ocpp2.0.1' : 'ocpp1.6',
      kind: 'call',
      messageId: `m${n}`,
      action,
      payload,
      receivedAt: received(at),
      connectionId: 'c1',
      gatewayInstance: 'gw',
      ...(response === undefined ? {} : { response }),
    };
    const eventId = `${stationId}-rec-${n}`;
    records.push({ record, eventId });
    push(record, eventId, n);
  };
  const push = (record: OcppInboundRecord, eventId: string, offset: number): void => {
    const r = normalise(record, { eventId, topic: 'ocpp.inbound', partition: seed % 3, offset: String(offset) });
    if (r.ok && r.events.length > 0)
      out.push(
        chance(0.5) && r.events.length === 1
          ? { type: 'RecordChargerEvent', event: r.events[0] }
          : { type: 'RecordChargerEvents', events: r.events },
      );
  };
  const samples = (): Array<Record<string, unknown>> => {
    const num = (v: number | string): number | string => (v201 ? Number(v) : String(v));
    const list: Array<Record<string, unknown>> = [];
    const kind = rnd();
    const frac = chance(0.2) ? `.${Math.floor(rnd() * 1000)}` : '';
    if (kind < 0.6) list.push({ value: num(`${wh}${frac}`) });
    else if (kind < 0.7)
      list.push(
        v201 ? { value: wh / 1000, unitOfMeasure: { unit: 'kWh' } } : { value: String(wh / 1000), unit: 'kWh' },
      );
    else if (kind < 0.8) for (const phase of ['L1', 'L2', 'L3']) list.push({ value: num(Math.floor(wh / 3)), phase });
    else if (kind < 0.85) list.push({ value: num(wh), location: 'EV' });
    if (chance(0.5))
      list.push(
        v201
          ? { value: 11000 + Math.floor(rnd() * 100), measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } }
          : { value: String(11000 + Math.floor(rnd() * 100)), measurand: 'Power.Active.Import', unit: 'W' },
      );
    if (chance(0.4))
      for (const phase of ['L1', 'L2', 'L3'])
        list.push(
          v201
            ? { value: 16 + rnd(), measurand: 'Current.Import', phase, unitOfMeasure: { unit: 'A' } }
            : { value: (16 + rnd()).toFixed(2), measurand: 'Current.Import', phase, unit: 'A' },
        );
    if (chance(0.03))
      list.push(
        v201
          ? { value: 5, measurand: 'Current.Import', unitOfMeasure: { unit: 'W' } }
          : { value: '5', measurand: 'Current.Import', unit: 'W' },
      );
    if (chance(0.03)) {
      if (v201)
        list.push({
          value: wh,
          context: 'Sample.Clock',
          signedMeterValue: {
            signedMeterData: `sig${n}`,
            signingMethod: 'ECDSA',
            encodingMethod: 'OCMF',
            publicKey: 'pk',
          },
        });
      else list.push({ value: `OCMF|sig${n}`, format: 'SignedData', context: 'Sample.Clock' });
    }
    if (list.length === 0) list.push({ value: num(wh) });
    return list;
  };
  for (let step = 0; step < steps; step++) {
    const r = rnd();
    minute += chance(0.1) ? -Math.floor(rnd() * 5) : Math.floor(rnd() * 8);
    if (chance(0.02)) minute += 60 * 24 * 3; // long silence
    const at = minute;
    if (chance(0.04) && records.length > 0) {
      // a retried record (same envelope id), or the same message again under a new id
      const old = pick(records);
      if (chance(0.5)) push(old.record, old.eventId, n);
      else send(old.record.action as string, old.record.payload, at, old.record.response);
      continue;
    }
    if (chance(0.05)) {
      out.push({ type: 'CloseStaleSessions', now: iso(minute + Math.floor(rnd() * 60 * 100)) });
      continue;
    }
    if (r < 0.12) {
      tx += chance(0.8) ? 1 : 0;
      seq = chance(0.1) ? 3 : 0;
      if (v201) {
        send(
          'TransactionEvent',
          {
            eventType: 'Started',
            timestamp: stamp(at),
            triggerReason: 'Authorized',
            seqNo: seq++,
            transactionInfo: {
              transactionId: `TX-${tx}`,
              ...(chance(0.7) ? { chargingState: pick(['Charging', 'EVConnected', 'SuspendedEV']) } : {}),
            },
            evse: { id: chance(0.8) ? 1 : 2, connectorId: 1 },
            idToken: { idToken: 'TOKEN', type: 'ISO14443' },
            ...(chance(0.6)
              ? { meterValue: [{ timestamp: stamp(at), sampledValue: [{ value: wh, context: 'Transaction.Begin' }] }] }
              : {}),
          },
          at,
        );
      } else {
        const start = { connectorId: chance(0.8) ? 1 : 2, idTag: 'TAG1', meterStart: wh, timestamp: stamp(at) };
        send('StartTransaction', start, at, { transactionId: tx, idTagInfo: { status: 'Accepted' } });
        if (chance(0.1))
          send('StartTransaction', start, at, { transactionId: ++tx, idTagInfo: { status: 'Accepted' } }); // retried start, new id
      }
    } else if (r < 0.7) {
      wh += chance(0.03) ? -500 : chance(0.02) ? 5_000_000 : Math.floor(rnd() * 400);
      if (v201) {
        if (chance(0.05)) seq += 1 + Math.floor(rnd() * 3); // gap
        const s = chance(0.05) ? Math.max(0, seq - 2) : seq++;
        send(
          'TransactionEvent',
          {
            eventType: 'Updated',
            timestamp: stamp(at),
            triggerReason: 'MeterValuePeriodic',
            seqNo: s,
            ...(chance(0.05) ? { offline: true } : {}),
            transactionInfo: {
              transactionId: `TX-${chance(0.9) ? tx : tx - 1}`,
              ...(chance(0.1)
                ? { chargingState: pick(['Charging', 'EVConnected', 'SuspendedEV', 'SuspendedEVSE', 'Idle']) }
                : {}),
            },
            meterValue: [{ timestamp: stamp(at), sampledValue: samples() }],
          },
          at,
        );
      } else {
        send(
          'MeterValues',
          {
            connectorId: chance(0.85) ? 1 : 2,
            ...(chance(0.9) ? { transactionId: chance(0.9) ? tx : tx - 1 } : {}),
            meterValue: [{ timestamp: stamp(at), sampledValue: samples() }],
          },
          at,
        );
      }
    } else if (r < 0.85) {
      const status = pick([
        'Available',
        'Preparing',
        'Charging',
        'SuspendedEV',
        'SuspendedEVSE',
        'Finishing',
        'Faulted',
      ]);
      if (v201)
        send(
          'StatusNotification',
          {
            timestamp: stamp(at),
            connectorStatus: pick(['Available', 'Occupied', 'Faulted']),
            evseId: chance(0.8) ? 1 : 2,
            connectorId: 1,
          },
          at,
        );
      else
        send(
          'StatusNotification',
          { connectorId: chance(0.8) ? 1 : chance(0.5) ? 2 : 0, status, errorCode: 'NoError', timestamp: stamp(at) },
          at,
        );
    } else {
      if (v201) {
        send(
          'TransactionEvent',
          {
            eventType: 'Ended',
            timestamp: stamp(at),
            triggerReason: 'EVDeparted',
            seqNo: seq++,
            transactionInfo: { transactionId: `TX-${tx}`, stoppedReason: pick(['EVDisconnected', 'Local', 'Remote']) },
            ...(chance(0.8)
              ? { meterValue: [{ timestamp: stamp(at), sampledValue: [{ value: wh, context: 'Transaction.End' }] }] }
              : {}),
          },
          at,
        );
      } else {
        const data = chance(0.3)
          ? { transactionData: [{ timestamp: stamp(at - 1), sampledValue: [{ value: String(wh - 10) }] }] }
          : {};
        send(
          'StopTransaction',
          {
            transactionId: chance(0.9) ? tx : tx + 5,
            meterStop: chance(0.05) ? 0 : wh,
            timestamp: stamp(at),
            ...(chance(0.5) ? { idTag: 'TAG1' } : {}),
            ...(chance(0.5) ? { reason: 'EVDisconnected' } : {}),
            ...data,
          },
          at,
        );
      }
    }
  }
  out.push({ type: 'CloseStaleSessions', now: iso(minute + 60 * 24 * 5) });
  return out;
}

/**
 * A long OCPP 1.6 session: StartTransaction at `from` (meterStart 0), `samples` MeterValues every
 * `intervalSeconds` whose increments vary (so a resampled timeline differs from the readings between grid
 * points), optional status flips (Charging / SuspendedEV every `flipEverySamples` samples), signed
 * Transaction.Begin/End values and a signed value on every `signedEverySamples`-th sample, StopTransaction
 * after the last sample. `timeline`: the exact cumulative energy at each reading (what v1 carried).
 */
export function longSession16(o: {
  stationId?: string;
  from: string;
  samples: number;
  intervalSeconds: number;
  flipEverySamples?: number;
  signedEverySamples?: number;
}): {
  commands: SessionCommand[];
  timeline: Array<{ at: string; cumulativeWh: string }>;
  energyWh: number;
  stopAt: string;
} {
  const cs = station(o.stationId ?? 'CS-LONG');
  const t0 = Date.parse(o.from);
  const iso = (ms: number) => new Date(ms).toISOString();
  const commands: SessionCommand[] = [
    ...cs.status16({ status: 'Preparing', at: iso(t0 - 1000) }),
    ...cs.start16({ tx: 1, meterStart: 0, at: iso(t0) }),
    ...cs.status16({ status: 'Charging', at: iso(t0) }),
  ];
  const timeline = [{ at: iso(t0), cumulativeWh: '0' }];
  const signed = (context: string, at: number): Sv16 => ({
    value: `OCMF|{"RD":[{"TM":"${iso(at)}","RV":1}]}|{"SD":"3045"}`,
    format: 'SignedData',
    context,
  });
  let wh = 0;
  let charging = true;
  for (let k = 1; k <= o.samples; k++) {
    const at = t0 + k * o.intervalSeconds * 1000;
    if (o.flipEverySamples && k % o.flipEverySamples === 0) {
      charging = !charging;
      commands.push(...cs.status16({ status: charging ? 'Charging' : 'SuspendedEV', at: iso(at - 1000) }));
    }
    if (charging) wh += 5 + ((k * 7919) % 13);
    const values: Sv16[] = [
      { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh', context: 'Sample.Periodic' },
    ];
    if (k === 1) values.push(signed('Transaction.Begin', at));
    else if (o.signedEverySamples && k % o.signedEverySamples === 0) values.push(signed('Sample.Periodic', at));
    commands.push(...cs.meter16({ tx: 1, at: iso(at), values }));
    timeline.push({ at: iso(at), cumulativeWh: String(wh) });
  }
  const stopMs = t0 + (o.samples + 1) * o.intervalSeconds * 1000;
  commands.push(
    ...cs.stop16({
      tx: 1,
      meterStop: wh,
      at: iso(stopMs),
      reason: 'Local',
      transactionData: [{ timestamp: iso(stopMs), sampledValue: [signed('Transaction.End', stopMs)] }],
    }),
  );
  timeline.push({ at: iso(stopMs), cumulativeWh: String(wh) });
  return { commands, timeline, energyWh: wh, stopAt: iso(stopMs) };
}
