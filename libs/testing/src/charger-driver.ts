import { RPCClient } from 'ocpp-rpc';

/** A seeded PRNG (mulberry32, libs/kernel): the same seed gives the same run. */
export { mulberry32 as prng } from '@csms/kernel';

/**
 * A charge point that behaves like a real one when the CSMS goes away: a call that got no CALLRESULT is
 * sent again (same content, new message id) after reconnecting with back-off, until it is answered.
 * The CSMS must make such retries harmless (the same transactionId, duplicates dropped).
 */
export class PersistentStation {
  private client?: RPCClient;
  retries = 0;
  reconnects = 0;

  constructor(
    readonly identity: string,
    readonly protocol: 'ocpp1.6' | 'ocpp2.0.1',
    private readonly endpoint: string,
    private readonly password: string,
  ) {}

  private async connected(): Promise<RPCClient> {
    if (this.client) return this.client;
    for (let attempt = 1; ; attempt++) {
      const c = new RPCClient({
        endpoint: this.endpoint,
        identity: this.identity,
        protocols: [this.protocol],
        password: this.password,
        reconnect: false,
        strictMode: true,
        callTimeoutMs: 10_000,
        pingIntervalMs: 0,
      } as unknown as ConstructorParameters<typeof RPCClient>[0]);
      c.handle(async () => ({}));
      try {
        await c.connect();
        c.on('close', () => {
          if (this.client === c) this.client = undefined;
        });
        this.client = c;
        if (attempt > 1 || this.reconnects > 0) this.reconnects++;
        return c;
      } catch {
        await c.close({ force: true }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** Math.min(attempt, 5))));
      }
    }
  }

  async call<T = Record<string, unknown>>(action: string, payload: Record<string, unknown>): Promise<T> {
    for (;;) {
      const c = await this.connected();
      try {
        return (await c.call(action, payload)) as T;
      } catch (e) {
        // an InternalError CALLERROR (the record was not durable) or a dropped connection: send it again
        this.retries++;
        if (this.client === c) {
          this.client = undefined;
          await c.close({ force: true }).catch(() => undefined);
        }
        const code = (e as { rpcErrorCode?: string }).rpcErrorCode;
        if (code !== undefined && code !== 'InternalError') throw e; // the CSMS refused the message itself: a bug, not an outage
      }
    }
  }

  async close(): Promise<void> {
    await this.client?.close({ force: true }).catch(() => undefined);
    this.client = undefined;
  }
}

export interface PlannedSession {
  stationId: string;
  protocol: 'ocpp1.6' | 'ocpp2.0.1';
  index: number;
  /** Wh */
  energyWh: number;
  idTag: string;
}

/**
 * Drives one session: authorise, start, a meter value, stop (1.6 or 2.0.1). Station times advance
 * 70 s per session from `t0`; 2 to 5 kWh per minute-long session (a DC charge at 120 to 300 kW).
 */
export async function driveSession(
  st: PersistentStation,
  s: PlannedSession,
  t0: number,
  registerWh: number,
): Promise<void> {
  const at = (sec: number) => new Date(t0 + (s.index * 70 + sec) * 1000).toISOString();
  const mid = registerWh + Math.floor(s.energyWh / 2);
  const end = registerWh + s.energyWh;
  if (s.protocol === 'ocpp1.6') {
    await st.call('Authorize', { idTag: s.idTag });
    await st.call('StatusNotification', {
      connectorId: 1,
      status: 'Preparing',
      errorCode: 'NoError',
      timestamp: at(0),
    });
    const { transactionId } = await st.call<{ transactionId: number }>('StartTransaction', {
      connectorId: 1,
      idTag: s.idTag,
      meterStart: registerWh,
      timestamp: at(0),
    });
    await st.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError', timestamp: at(1) });
    await st.call('MeterValues', {
      connectorId: 1,
      transactionId,
      meterValue: [
        {
          timestamp: at(30),
          sampledValue: [{ value: String(mid), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        },
      ],
    });
    await st.call('StopTransaction', {
      transactionId,
      idTag: s.idTag,
      meterStop: end,
      timestamp: at(60),
      reason: 'Local',
    });
    await st.call('StatusNotification', {
      connectorId: 1,
      status: 'Available',
      errorCode: 'NoError',
      timestamp: at(61),
    });
  } else {
    const transactionId = `${s.stationId}-T${s.index}`;
    const mv = (wh: number, context: string, ts: string) => [
      {
        timestamp: ts,
        sampledValue: [
          { value: wh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
        ],
      },
    ];
    await st.call('Authorize', { idToken: { idToken: s.idTag, type: 'ISO14443' } });
    await st.call('TransactionEvent', {
      eventType: 'Started',
      timestamp: at(0),
      triggerReason: 'Authorized',
      seqNo: 0,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      idToken: { idToken: s.idTag, type: 'ISO14443' },
      evse: { id: 1, connectorId: 1 },
      meterValue: mv(registerWh, 'Transaction.Begin', at(0)),
    });
    await st.call('TransactionEvent', {
      eventType: 'Updated',
      timestamp: at(30),
      triggerReason: 'MeterValuePeriodic',
      seqNo: 1,
      transactionInfo: { transactionId, chargingState: 'Charging' },
      meterValue: mv(mid, 'Sample.Periodic', at(30)),
    });
    await st.call('TransactionEvent', {
      eventType: 'Ended',
      timestamp: at(60),
      triggerReason: 'StopAuthorized',
      seqNo: 2,
      transactionInfo: { transactionId, chargingState: 'EVConnected', stoppedReason: 'Local' },
      meterValue: mv(end, 'Transaction.End', at(60)),
    });
  }
}

/**
 * One persistent station per row of `plan` (all of a row's sessions are the same station), connected to `url`,
 * booted, and driven through its sessions in order, the stations in parallel. The meter register starts at
 * `startRegisterWh` and grows by each session's energy; `afterSession` runs after every completed session (the
 * crash and scale-out tests kill and restart services from it). Returns the stations, still open.
 */
export async function drivePlan(
  plan: PlannedSession[][],
  opts: { url: string; password: string; startRegisterWh: number; afterSession?: () => void },
): Promise<PersistentStation[]> {
  const t0 = Date.now();
  const stations = plan.map((row) => new PersistentStation(row[0].stationId, row[0].protocol, opts.url, opts.password));
  await Promise.all(
    stations.map(async (st, s) => {
      await st.call(
        'BootNotification',
        st.protocol === 'ocpp1.6'
          ? { chargePointVendor: 'Acme', chargePointModel: 'X' }
          : { reason: 'PowerUp', chargingStation: { model: 'X', vendorName: 'Acme' } },
      );
      let register = opts.startRegisterWh;
      for (const session of plan[s]) {
        await driveSession(st, session, t0, register);
        register += session.energyWh;
        opts.afterSession?.();
      }
    }),
  );
  return stations;
}
