/**
 * A token's billing account is the one the gateway's registry named when the station was answered, live and in a
 * rebuild. Every service as its own process on the real Kafka and PostgreSQL (gateway, session, tariff and payment
 * services, the PSP emulator):
 * a token of account A starts a session; while it charges, the token is moved to account B (the registry record is
 * replaced on the compacted topic, and the tariff service's copy learns it before the session ends); the CDR must
 * still be billed to A at A's contract tariff and captured on A's card, and a second tariff service rebuilding from the same topics (whose copy
 * of the registry only ever sees B) must make the same CDR, byte for byte. Before the gateway recorded the registry's
 * answer on the inbound record, the CDR went to B (and a rebuild of an older log to whatever the token's latest
 * record said).
 */
import { dropTestDatabases, uniqueName, waitFor, type ServiceProcess } from '@csms/testing';
import {
  chargeTwelveKwh16,
  openCardAccount,
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

const PASSWORD = 'e2e-token-facts-password';
const SITE = 'site-token-facts';

describe('token facts as answered: a token moved to another account while charging bills the account it started with', () => {
  let sys: RunningSystem;
  let rebuild: ServiceProcess | undefined;
  const rebuildDb = `csms_test_token_facts_rebuild_${process.pid}_${Math.floor(performance.now())}`;

  beforeAll(async () => {
    sys = await startSystem({
      label: 'tokenfacts',
      services: ['ocpp-gateway', 'session-service', 'tariff-service', 'payment-service'],
    });
  }, 240_000);

  afterAll(async () => {
    rebuild?.kill('SIGKILL');
    await rebuild?.exited();
    await sys?.stop();
    await dropTestDatabases([rebuildDb]);
  });

  const tariffsKnowToken = (url: string, uid: string, account: string) =>
    waitForRow(
      url,
      'select 1 from tokens where uid = $1 and billing_account_id = $2',
      [uid, account],
      `the tariff service's copy of ${uid} with ${account}`,
    );

  it('prices and bills the session to the account of its start, and a rebuild makes the same CDR', async () => {
    const stationId = uniqueName('TF16');
    const uid = uniqueName('TF-TOKEN').slice(0, 20);
    await registerStation(sys, stationId, { password: PASSWORD, siteId: SITE });
    await publishTariffForSite(sys, plainTariff('TF-SITE'), SITE);
    for (const [tariff, accountId] of [
      [plainTariff('TF-ACCT-A', 0.5), 'TF-ACCT-A'],
      [plainTariff('TF-ACCT-B', 0.75), 'TF-ACCT-B'],
    ] as const) {
      expect((await sys.api('tariff-service', 'PUT', `/api/v1/tariffs/${tariff.id}`, tariff)).status).toBe(200);
      const assigned = await sys.api('tariff-service', 'POST', '/api/v1/tariff-assignments', {
        tariffId: tariff.id,
        scope: { kind: 'account', accountId },
      });
      expect(assigned.status).toBe(201);
    }
    await openCardAccount(sys, 'TF-ACCT-A', 'pm_card_visa');
    await openCardAccount(sys, 'TF-ACCT-B', 'pm_card_visa');
    await putToken(sys, uid, 'TF-ACCT-A');
    await tariffsKnowToken(sys.databaseUrls['tariff-service'], uid, 'TF-ACCT-A');

    const cp = stationClient(sys, stationId, PASSWORD);
    await cp.connect();
    try {
      expect(await cp.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'AC22' })).toMatchObject({
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

      // the token moves to account B while the session runs; the tariff service's copy learns it before the end
      await putToken(sys, uid, 'TF-ACCT-B');
      await tariffsKnowToken(sys.databaseUrls['tariff-service'], uid, 'TF-ACCT-B');

      // a DC fast charge: 12 kWh in two minutes (360 kW)
      await chargeTwelveKwh16(cp, { transactionId: start.transactionId, at, powerKw: '360' });
    } finally {
      await cp.close({ force: true });
    }

    // 12 kWh at account A's contract tariff: 1.00 + 12 x 0.50 = 7.00 excl. VAT, 8.47 incl. (B's: 10.00 / 12.10)
    const live = await firstCdrOf(sys, sys.urls['tariff-service'], stationId);
    expect(live).toMatchObject({
      total_energy: '12',
      total_cost: { excl_vat: '7.00', incl_vat: '8.47' },
      cdr_token: { uid, contract_id: 'TF-ACCT-A' },
      tariffs: [expect.objectContaining({ id: 'TF-ACCT-A' })],
    });

    // the payment service held and captured on account A: the CDR's total, once
    const sessionId = (
      (await sys.api('tariff-service', 'GET', `/api/v1/cdrs/${live.id as string}?include=audit`)).body as {
        audit: { sessionId: string };
      }
    ).audit.sessionId;
    const payment = await waitFor(
      async () => {
        const r = await sys.api('payment-service', 'GET', `/api/v1/sessions/${sessionId}/payment`);
        return r.status === 200 && r.body.status === 'captured' ? r.body : undefined;
      },
      { what: 'the payment record, captured', timeoutMs: 90_000 },
    );
    expect(payment).toMatchObject({ accountId: 'TF-ACCT-A', capturedMinor: '847' });
    expect(sys.psp.ledger().filter((x) => x.metadata.session_id === sessionId)).toEqual([
      expect.objectContaining({ captures: 1, captured_minor: 847 }),
    ]);

    // a rebuild: a second tariff service, its own empty database and consumer group, the same topics from the start;
    // its copy of the compacted registry topic only ever names account B for the token
    rebuild = await startTariffRebuild(sys, rebuildDb, 'tokenfacts');
    const rebuilt = await firstCdrOf(sys, rebuild.url, stationId);
    expect(rebuilt).toEqual(live);
  }, 300_000);
});
