import { evseSegments, measureUptime, measureUtilisation, sessionsStarted, type StatusFact } from './timeline';

const H = 3_600_000;
let seq = 0n;
const fact = (evseId: number, kind: StatusFact['kind'], value: string, h: number): StatusFact => ({
  stationId: 'CP-1',
  evseId,
  kind,
  value,
  atMs: h * H,
  seq: seq++,
});

describe('EVSE segments, uptime and utilisation', () => {
  const facts = [
    fact(0, 'connectivity', 'online', -5), // before the period: the state at its start
    fact(1, 'status', 'Available', -5),
    fact(1, 'status', 'Preparing', 1),
    fact(1, 'session', 'tx-1', 1),
    fact(1, 'charging', 'Charging', 2),
    fact(1, 'charging', 'SuspendedEV', 4),
    fact(1, 'status', 'Available', 5),
    fact(0, 'connectivity', 'offline', 10),
    fact(0, 'connectivity', 'online', 12),
    fact(1, 'status', 'Faulted', 14),
    fact(1, 'status', 'Available', 18),
    fact(2, 'status', 'Faulted', 0), // another EVSE: not this one's
  ];

  it('outages with cause, excluded time inside declared maintenance', () => {
    const segs = evseSegments(1, facts, [{ evseId: 1, fromMs: 16 * H, toMs: 20 * H }], 0, 24 * H);
    const u = measureUptime(segs);
    expect(u.outages).toEqual([
      { fromMs: 10 * H, toMs: 12 * H, cause: 'OFFLINE', excludedMs: 0 },
      { fromMs: 14 * H, toMs: 18 * H, cause: 'FAULTED', excludedMs: 2 * H },
    ]);
    expect(u).toMatchObject({ periodMs: 24 * H, outageMs: 6 * H, excludedMs: 2 * H, unknownMs: 0 });
  });

  it('maintenance of another EVSE excludes nothing here; the station-wide one does', () => {
    expect(measureUptime(evseSegments(1, facts, [{ evseId: 2, fromMs: 0, toMs: 24 * H }], 0, 24 * H)).excludedMs).toBe(
      0,
    );
    expect(measureUptime(evseSegments(1, facts, [{ evseId: 0, fromMs: 0, toMs: 24 * H }], 0, 24 * H)).excludedMs).toBe(
      6 * H,
    );
  });

  it('occupied, charging, idle and sessions', () => {
    const u = measureUtilisation(evseSegments(1, facts, [], 0, 24 * H));
    expect(u).toEqual({ occupiedMs: 4 * H, chargingMs: 2 * H, idleMs: 2 * H, unknownMs: 0 });
    expect(sessionsStarted(1, facts, 0, 24 * H)).toBe(1);
    expect(sessionsStarted(1, facts, 2 * H, 24 * H)).toBe(0);
  });

  it('time before any fact is unknown, neither up nor down', () => {
    const u = measureUptime(evseSegments(3, [fact(3, 'status', 'Available', 6)], [], 0, 24 * H));
    expect(u).toMatchObject({ outageMs: 0, unknownMs: 6 * H });
  });

  it('a station-wide Faulted (connector 0) is an outage of every EVSE, cause STATION_FAULTED', () => {
    const u = measureUptime(
      evseSegments(
        1,
        [fact(1, 'status', 'Available', 0), fact(0, 'status', 'Faulted', 2), fact(0, 'status', 'Available', 3)],
        [],
        0,
        4 * H,
      ),
    );
    expect(u.outages).toEqual([{ fromMs: 2 * H, toMs: 3 * H, cause: 'STATION_FAULTED', excludedMs: 0 }]);
  });
});
