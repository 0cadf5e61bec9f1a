/**
 * Child process of bench/full-chain.ts: password-authenticated OCPP 1.6 stations (raw `ws` clients, HTTP Basic on
 * the upgrade, one outstanding CALL each as OCPP-J requires), each in one open session whose meter values it
 * reports. Commands arrive over IPC; results go back over IPC.
 * The session started 10 hours ago (meter time) and each MeterValues is 60 s of meter time after the previous one,
 * with the register rising by 180 Wh (10.8 kW): the session service's periodic session.updated (every 900 s of
 * session time by default) and so the tariff service's running-cost estimates and the payment service's hold checks
 * happen at the rate a real network's long sessions make them, not never (as with receive-time stamps) or always.
 */
import WebSocket from 'ws';
import { call, closedLoop, connectAll, openLoop, type DriverStation } from './ocpp-load-driver';

interface Station extends DriverStation {
  transactionId?: number;
  register: number;
  meterAtMs: number;
}

let stations: Station[] = [];
const send = (m: unknown) => process.send!(m);
const STARTED_MS = Date.now() - 10 * 3600_000;

function meterValues(s: Station): { action: string; payload: object } {
  s.meterAtMs += 60_000;
  s.register += 180;
  const payload = {
    connectorId: 1,
    transactionId: s.transactionId,
    meterValue: [
      {
        timestamp: new Date(s.meterAtMs).toISOString(),
        sampledValue: [
          { value: String(s.register), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: '10800', measurand: 'Power.Active.Import', unit: 'W' },
        ],
      },
    ],
  };
  return { action: 'MeterValues', payload };
}

/** connects (retrying a refused upgrade after 1 s, up to 5 times, as a charger would), boots, starts a session */
/** the token of a station `FC-<tag>-<i>`: token i mod the number of tokens (bench/full-chain.ts --accounts) */
const idTagOf = (s: { id: string }, idTags: string[]) =>
  idTags[Number(s.id.slice(s.id.lastIndexOf('-') + 1)) % idTags.length];

async function setUp(url: string, ids: string[], idTags: string[]): Promise<{ connected: number; started: number }> {
  const got = await connectAll(url, ids, {
    password: true,
    batch: 100,
    make: (base): Station => ({ ...base, register: 100_000, meterAtMs: STARTED_MS }),
  });
  stations = got.stations;
  let started = 0;
  for (let i = 0; i < stations.length; i += 100) {
    await Promise.all(
      stations.slice(i, i + 100).map(async (s) => {
        await call(s, 'BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'FullChain' });
        await call(s, 'StatusNotification', {
          connectorId: 1,
          errorCode: 'NoError',
          status: 'Preparing',
          timestamp: new Date(STARTED_MS - 1000).toISOString(),
        });
        const r = await call(s, 'StartTransaction', {
          connectorId: 1,
          idTag: idTagOf(s, idTags),
          meterStart: s.register,
          timestamp: new Date(STARTED_MS).toISOString(),
        });
        const tx = (r.payload as { transactionId?: number } | null)?.transactionId;
        if (r.ok && typeof tx === 'number') {
          s.transactionId = tx;
          started++;
        }
      }),
    );
  }
  return { connected: stations.length, started };
}

/** every station stops its session */
async function stopAll(idTags: string[]): Promise<{ stopped: number }> {
  let stopped = 0;
  for (let i = 0; i < stations.length; i += 100) {
    await Promise.all(
      stations.slice(i, i + 100).map(async (s) => {
        if (s.transactionId === undefined || s.ws.readyState !== WebSocket.OPEN) return;
        const r = await call(s, 'StopTransaction', {
          transactionId: s.transactionId,
          idTag: idTagOf(s, idTags),
          meterStop: s.register,
          timestamp: new Date(s.meterAtMs + 1000).toISOString(),
          reason: 'Local',
        });
        if (r.ok) stopped++;
      }),
    );
  }
  return { stopped };
}

process.on(
  'message',
  async (m: { cmd: string; url: string; ids: string[]; idTags: string[]; durationMs: number; rate: number }) => {
    if (m.cmd === 'setUp') send({ cmd: 'setUp', ...(await setUp(m.url, m.ids, m.idTags)) });
    if (m.cmd === 'closedLoop') send({ cmd: 'closedLoop', ...(await closedLoop(stations, m.durationMs, meterValues)) });
    if (m.cmd === 'openLoop')
      send({ cmd: 'openLoop', ...(await openLoop(stations, m.rate, m.durationMs, meterValues)) });
    if (m.cmd === 'stopAll') send({ cmd: 'stopAll', ...(await stopAll(m.idTags)) });
    if (m.cmd === 'close') {
      for (const s of stations) s.ws.terminate();
      stations.length = 0;
      send({ cmd: 'close' });
    }
  },
);
