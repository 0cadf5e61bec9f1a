/**
 * A session is priced and described with the station facts the gateway's registry had when the gateway answered its
 * start, live and in a rebuild. Every service as its own process on the real Kafka and PostgreSQL (gateway, session
 * and tariff services): a station of site A (site tariff A, address A, a CCS connector) starts a session; while it
 * charges, the station is moved to site B with another address and connector (the registry record is replaced on the
 * compacted topic, and the tariff service's copy learns it before the session ends); the CDR must still be priced at
 * site A's tariff with site A's cdr_location, and a second tariff service rebuilding from the same topics (whose copy
 * of the registry only ever sees site B) must make the same CDR, byte for byte. Before the gateway recorded the
 * station facts on the start's inbound record, the CDR took site B's tariff and address (and a rebuild of an older
 * log whatever the station's latest record said).
 */
import { dropTestDatabases, uniqueName, type ServiceProcess } from '@csms/testing';
import {
  chargeTwelveKwh16,
  plainTariff,
  publishTariffForSite,
  putToken,
  registerStation,
  startSystem,
  stationClient,
  type Json,
  type RunningSystem,
  firstCdrOf,
  startTariffRebuild,
  waitForRow,
} from './system';

const PASSWORD = 'e2e-station-facts-password';

const place = (site: string, address: string, standard: string) => ({
  siteId: site,
  location: {
    address,
    city: 'Amsterdam',
    country: 'NLD',
    coordinates: { latitude: '52.367030', longitude: '4.900840' },
  },
  evses: [{ evseId: 1, connectors: [{ connectorId: 1, standard, format: 'CABLE', power_type: 'DC' }] }],
});

describe('station facts as answered: a station moved to another site while charging prices at the site it started at', () => {
  let sys: RunningSystem;
  let rebuild: ServiceProcess | undefined;
  const rebuildDb = `csms_test_station_facts_rebuild_${process.pid}_${Math.floor(performance.now())}`;
  const siteA = uniqueName('site-sf-a').slice(0, 36);
  const siteB = uniqueName('site-sf-b').slice(0, 36);

  beforeAll(async () => {
    sys = await startSystem({ label: 'stationfacts', services: ['ocpp-gateway', 'session-service', 'tariff-service'] });
  }, 240_000);

  afterAll(async () => {
    rebuild?.kill('SIGKILL');
    await rebuild?.exited();
    await sys?.stop();
    await dropTestDatabases([rebuildDb]);
  });

  const tariffsKnowStation = (stationId: string, site: string) =>
    waitForRow(
      sys.databaseUrls['tariff-service'],
      'select 1 from stations where station_id = $1 and site_id = $2',
      [stationId, site],
      `the tariff service's copy of ${stationId} at ${site}`,
    );

  it('prices and describes the session with the site of its start, and a rebuild makes the same CDR', async () => {
    const stationId = uniqueName('SF16');
    const uid = uniqueName('SF-TAG').slice(0, 20);
    await putToken(sys, uid, null);
    await publishTariffForSite(sys, plainTariff('SF-SITE-A', 0.5), siteA);
    await publishTariffForSite(sys, plainTariff('SF-SITE-B', 0.75), siteB);
    await registerStation(sys, stationId, {
      password: PASSWORD,
      ...place(siteA, 'Amstel 1', 'IEC_62196_T2_COMBO'),
    } as never);
    await tariffsKnowStation(stationId, siteA);

    const cp = stationClient(sys, stationId, PASSWORD);
    await cp.connect();
    try {
      expect(await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'DC50' })).toMatchObject({
        status: 'Accepted',
      });
      const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
      const start = (await cp.call('StartTransaction', {
        connectorId: 1,
        idTag: uid,
        meterStart: 1000,
        timestamp: at(0),
      })) as { transactionId: number; idTagInfo: Json };
      expect(start.idTagInfo).toMatchObject({ status: 'Accepted' });

      // the station moves to site B (its password unchanged) while the session runs; the tariff service's copy
      // learns it before the end
      const moved = await sys.api('ocpp-gateway', 'PUT', `/api/v1/stations/${stationId}`, {
        securityProfile: 1,
        timeZone: 'Europe/Amsterdam',
        ...place(siteB, 'Dam 1', 'CHADEMO'),
      });
      expect(moved.status).toBe(200);
      await tariffsKnowStation(stationId, siteB);

      await chargeTwelveKwh16(cp, { transactionId: start.transactionId, at });
    } finally {
      await cp.close({ force: true });
    }

    // 12 kWh at site A's tariff: 1.00 + 12 x 0.50 = 7.00 excl. VAT, 8.47 incl. (site B's: 10.00 / 12.10)
    const live = await firstCdrOf(sys, sys.urls['tariff-service'], stationId);
    expect(live).toMatchObject({
      total_energy: '12',
      total_cost: { excl_vat: '7.00', incl_vat: '8.47' },
      tariffs: [expect.objectContaining({ id: 'SF-SITE-A' })],
      cdr_location: expect.objectContaining({
        address: 'Amstel 1',
        connector_standard: 'IEC_62196_T2_COMBO',
        connector_format: 'CABLE',
      }),
    });

    // a rebuild: a second tariff service, its own empty database and consumer group, the same topics from the start;
    // its copy of the compacted registry topic only ever places the station at site B
    rebuild = await startTariffRebuild(sys, rebuildDb, 'stationfacts');
    const rebuilt = await firstCdrOf(sys, rebuild.url, stationId);
    expect(rebuilt).toEqual(live);
  }, 300_000);
});
