/**
 * The simulator against a stub CSMS (ocpp-rpc RPCServer, strictMode = the official schemas of both
 * versions) on 127.0.0.1. No sleeps: every wait is for a condition.
 */
import { normaliseOrThrow, type OcppInboundRecord } from '@csms/ocpp-normaliser';
import { handle, initialState, type SessionEnded, type SessionsState } from '@csms/sessions';
import { waitFor } from '@csms/testing';
import { Simulation, type SimulationOptions } from '../src';
import { CsmsStub, type ReceivedCall } from './csms-stub';

type Protocol = 'ocpp1.6' | 'ocpp2.0.1';
const PASSWORD = 'a-station-secret-0123';

const stubs: CsmsStub[] = [];
const sims: Simulation[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.stop()));
  await Promise.all(stubs.splice(0).map((s) => s.close()));
});

async function setup(opts: Partial<SimulationOptions>): Promise<{ csms: CsmsStub; sim: Simulation; id: string }> {
  const csms = new CsmsStub(PASSWORD);
  stubs.push(csms);
  const url = await csms.listen();
  const sim = new Simulation({
    url,
    stations: 1,
    connectors: 1,
    sessions: 1,
    seed: 11,
    password: (id) => (id.startsWith('SIM-') ? PASSWORD : undefined),
    speed: 200,
    sampleIntervalSeconds: 30,
    backoff: { initialMs: 20, maxMs: 200, factor: 2, jitter: 0.2 },
    shape: {
      base: 'quick',
      chargeSeconds: [600, 600],
      idleSeconds: [120, 120],
      suspendProbability: 1,
      suspendSeconds: [60, 60],
      stopByUnplugProbability: 0,
    },
    ...opts,
  });
  sims.push(sim);
  return { csms, sim, id: sim.stations[0].id };
}

const statuses = (calls: ReceivedCall[]) =>
  calls
    .filter((c) => c.action === 'StatusNotification')
    .map((c) => (c.params.status ?? c.params.connectorStatus) as string);
const timestamps = (calls: ReceivedCall[]) => calls.map((c) => Date.parse(c.params.timestamp as string));
const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]);

function register16(mv: ReceivedCall): number {
  const values = (mv.params.meterValue as Array<{ sampledValue: Array<{ measurand?: string; value: string }> }>)[0]
    .sampledValue;
  return Number(values.find((v) => v.measurand === 'Energy.Active.Import.Register')!.value);
}
function register201(te: ReceivedCall): number | undefined {
  const mv = te.params.meterValue as Array<{ sampledValue: Array<{ measurand?: string; value: number }> }> | undefined;
  return mv?.[0].sampledValue.find((v) => v.measurand === 'Energy.Active.Import.Register')?.value;
}

describe('simulator against a strict ocpp-rpc CSMS', () => {
  it('ocpp1.6: a full session arrives with valid messages in the right order', async () => {
    const { csms, sim, id } = await setup({ protocol: 'ocpp1.6' });
    const summary = await sim.run();

    expect(csms.validationFailures).toEqual([]);
    expect(summary.totals).toMatchObject({ sessionsStarted: 1, sessionsCompleted: 1, errors: 0 });
    const calls = csms.of(id).filter((c) => c.action !== 'Heartbeat');
    const actions = calls.map((c) => c.action);
    expect(actions[0]).toBe('BootNotification');
    const iAuth = actions.indexOf('Authorize');
    const iStart = actions.indexOf('StartTransaction');
    const iStop = actions.indexOf('StopTransaction');
    expect(iAuth).toBeGreaterThan(0);
    expect(iStart).toBeGreaterThan(iAuth);
    expect(iStop).toBeGreaterThan(actions.indexOf('MeterValues'));
    expect(actions.lastIndexOf('MeterValues')).toBeLessThan(iStop);

    // plug in, charge, pause, resume, EV full (parking), stop, unplug
    const st = statuses(calls);
    expect(st.slice(0, 4)).toEqual(['Available', 'Available', 'Preparing', 'Charging']);
    expect(st.slice(-3)).toEqual(['SuspendedEV', 'Finishing', 'Available']);
    const pause = st.findIndex((s, i) => i > 3 && (s === 'SuspendedEVSE' || s === 'SuspendedEV'));
    expect(st[pause + 1]).toBe('Charging');
    expect(calls[iStart].params.idTag).toBe(calls[iAuth].params.idTag);
    expect(increasing(timestamps(calls.filter((c) => c.params.timestamp)))).toBe(true);

    // the register: from meterStart, never backwards, to meterStop = the energy reported
    const start = calls[iStart].params;
    const stop = calls[iStop].params;
    const mvs = calls.filter((c) => c.action === 'MeterValues');
    const txId = 1000; // the stub's first transactionId
    expect(mvs.every((m) => m.params.transactionId === txId)).toBe(true);
    expect(stop.transactionId).toBe(txId);
    const regs = [start.meterStart as number, ...mvs.map(register16), stop.meterStop as number];
    expect(increasing(regs)).toBe(true);
    expect((stop.meterStop as number) - (start.meterStart as number)).toBe(summary.stations[0].sessions[0].energyWh);
    expect(summary.stations[0].sessions[0].energyWh).toBeGreaterThan(0);
    expect(stop.reason).toBe('Local');
    const td = stop.transactionData as Array<{ sampledValue: Array<{ context: string; value: string }> }>;
    expect(td.map((m) => m.sampledValue[0].context)).toEqual(['Transaction.Begin', 'Transaction.End']);
    expect(td[1].sampledValue[0].value).toBe(String(stop.meterStop));
    // the measurands of a sample
    const measurands = (
      mvs[1].params.meterValue as Array<{ sampledValue: Array<{ measurand: string; phase?: string }> }>
    )[0].sampledValue.map((v) => `${v.measurand}${v.phase ? `.${v.phase}` : ''}`);
    expect(measurands).toEqual([
      'Energy.Active.Import.Register',
      'Power.Active.Import',
      'Current.Import.L1',
      'Current.Import.L2',
      'Current.Import.L3',
      'SoC',
    ]);
  });

  it('ocpp2.0.1: a full session arrives as TransactionEvents Started/Updated/Ended with contiguous seqNo', async () => {
    const { csms, sim, id } = await setup({ protocol: 'ocpp2.0.1' });
    const summary = await sim.run();

    expect(csms.validationFailures).toEqual([]);
    expect(summary.totals).toMatchObject({ sessionsStarted: 1, sessionsCompleted: 1, errors: 0 });
    const calls = csms.of(id).filter((c) => c.action !== 'Heartbeat');
    const actions = calls.map((c) => c.action);
    expect(actions.slice(0, 4)).toEqual(['BootNotification', 'StatusNotification', 'StatusNotification', 'Authorize']);
    expect(statuses(calls)).toEqual(['Available', 'Occupied', 'Available']);
    const tes = calls.filter((c) => c.action === 'TransactionEvent');
    expect(tes.map((t) => t.params.seqNo)).toEqual(tes.map((_, i) => i));
    expect(tes[0].params).toMatchObject({
      eventType: 'Started',
      triggerReason: 'Authorized',
      evse: { id: 1, connectorId: 1 },
    });
    expect(tes[tes.length - 1].params).toMatchObject({
      eventType: 'Ended',
      triggerReason: 'StopAuthorized',
      transactionInfo: { stoppedReason: 'Local' },
    });
    expect(tes.slice(1, -1).every((t) => t.params.eventType === 'Updated')).toBe(true);
    const txIds = new Set(tes.map((t) => (t.params.transactionInfo as { transactionId: string }).transactionId));
    expect(txIds.size).toBe(1);
    // actions: Status Occupied < Started < ... < Ended < Status Available
    expect(actions.indexOf('TransactionEvent')).toBeGreaterThan(actions.indexOf('Authorize'));
    expect(actions.lastIndexOf('StatusNotification')).toBeGreaterThan(actions.lastIndexOf('TransactionEvent'));
    // charging states: EVConnected → Charging → pause → Charging → SuspendedEV (parking) → EVConnected at the end
    const states = tes
      .map((t) => (t.params.transactionInfo as { chargingState?: string }).chargingState)
      .filter(Boolean);
    expect(states[0]).toBe('EVConnected');
    expect(states[1]).toBe('Charging');
    expect(states.slice(-2)).toEqual(['SuspendedEV', 'EVConnected']);
    expect(states.filter((s) => s === 'Charging')).toHaveLength(2);
    // registers: Transaction.Begin, samples, Transaction.End; never backwards
    const regs = tes.map(register201).filter((r): r is number => r !== undefined);
    expect(increasing(regs)).toBe(true);
    const ctx = (t: ReceivedCall) =>
      (t.params.meterValue as Array<{ sampledValue: Array<{ context: string }> }>)[0].sampledValue[0].context;
    expect(ctx(tes[0])).toBe('Transaction.Begin');
    expect(ctx(tes[tes.length - 1])).toBe('Transaction.End');
    expect(regs[regs.length - 1] - regs[0]).toBe(summary.stations[0].sessions[0].energyWh);
    expect(tes.some((t) => t.params.offline)).toBe(false);
    expect(increasing(timestamps(calls.filter((c) => c.params.timestamp)))).toBe(true);
  });

  it('ocpp1.6: Reset, UpdateFirmware, GetDiagnostics, configuration and a remote start/stop round trip', async () => {
    const { csms, sim, id } = await setup({ protocol: 'ocpp1.6', sessions: 0, opsStepSeconds: 5, rebootSeconds: 5 });
    sim.start();
    await sim.whenDone();

    expect(await csms.call(id, 'GetConfiguration', { key: ['HeartbeatInterval', 'NoSuchKey'] })).toEqual({
      configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '300' }],
      unknownKey: ['NoSuchKey'],
    });
    expect(await csms.call(id, 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '20' })).toEqual({
      status: 'Accepted',
    });
    expect(await csms.call(id, 'ChangeConfiguration', { key: 'NumberOfConnectors', value: '4' })).toEqual({
      status: 'Rejected',
    });

    expect(
      await csms.call(id, 'UpdateFirmware', {
        location: 'https://fw.example/sim-2.1.0.bin',
        retrieveDate: new Date().toISOString(),
      }),
    ).toEqual({});
    await waitFor(() => csms.of(id, 'FirmwareStatusNotification').length === 4, { what: 'firmware statuses' });
    expect(csms.of(id, 'FirmwareStatusNotification').map((c) => c.params.status)).toEqual([
      'Downloading',
      'Downloaded',
      'Installing',
      'Installed',
    ]);

    const diag = (await csms.call(id, 'GetDiagnostics', { location: 'ftp://diag.example/' })) as { fileName: string };
    expect(diag.fileName).toMatch(new RegExp(`^diagnostics-${id}-`));
    await waitFor(() => csms.of(id, 'DiagnosticsStatusNotification').length === 2, { what: 'diagnostics statuses' });
    expect(csms.of(id, 'DiagnosticsStatusNotification').map((c) => c.params.status)).toEqual(['Uploading', 'Uploaded']);

    expect(await csms.call(id, 'TriggerMessage', { requestedMessage: 'StatusNotification', connectorId: 1 })).toEqual({
      status: 'Accepted',
    });
    expect(await csms.call(id, 'ChangeConfiguration', { key: 'AuthorizeRemoteTxRequests', value: 'true' })).toEqual({
      status: 'Accepted',
    });
    expect(await csms.call(id, 'RemoteStartTransaction', { connectorId: 1, idTag: 'REMOTE-1' })).toEqual({
      status: 'Accepted',
    });
    const start = await waitFor(() => csms.of(id, 'StartTransaction')[0], { what: 'StartTransaction' });
    expect(start.params.idTag).toBe('REMOTE-1');
    const actions = csms.of(id).map((c) => `${c.action}${c.params.idTag ? ` ${c.params.idTag}` : ''}`);
    expect(actions.indexOf('Authorize REMOTE-1')).toBeGreaterThan(-1);
    expect(actions.indexOf('Authorize REMOTE-1')).toBeLessThan(actions.indexOf('StartTransaction REMOTE-1'));
    const txId = await waitFor(() => sim.summary().stations[0].sessions[0]?.transactionId, { what: 'transaction id' });
    expect(await csms.call(id, 'RemoteStopTransaction', { transactionId: txId })).toEqual({ status: 'Accepted' });
    const stop = await waitFor(() => csms.of(id, 'StopTransaction')[0], { what: 'StopTransaction' });
    expect(stop.params).toMatchObject({ transactionId: txId, reason: 'Remote' });
    expect(await csms.call(id, 'RemoteStopTransaction', { transactionId: 999_999 })).toEqual({ status: 'Rejected' });

    expect(await csms.call(id, 'Reset', { type: 'Soft' })).toEqual({ status: 'Accepted' });
    await waitFor(() => csms.of(id, 'BootNotification').length === 2, { what: 'BootNotification after the reset' });
    const boots = csms.of(id, 'BootNotification');
    expect(boots[1].connection).toBeGreaterThan(boots[0].connection);
    expect(boots[1].params.firmwareVersion).toBe('2.1.0');
    expect(await csms.call(id, 'GetLocalListVersion', {})).toEqual({ listVersion: 0 });
    expect(
      await csms.call(id, 'SendLocalList', { listVersion: 3, updateType: 'Full', localAuthorizationList: [] }),
    ).toEqual({ status: 'Accepted' });
    expect(await csms.call(id, 'GetLocalListVersion', {})).toEqual({ listVersion: 3 });
    expect(await csms.call(id, 'ClearCache', {})).toEqual({ status: 'Accepted' });
    expect(csms.validationFailures).toEqual([]);
    expect(sim.summary().totals.errors).toBe(0);
  });

  it('ocpp2.0.1: Reset, UpdateFirmware, GetLog, variables and a remote start/stop round trip', async () => {
    const { csms, sim, id } = await setup({ protocol: 'ocpp2.0.1', sessions: 0, opsStepSeconds: 5, rebootSeconds: 5 });
    sim.start();
    await sim.whenDone();

    const got = (await csms.call(id, 'GetVariables', {
      getVariableData: [
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' } },
        { component: { name: 'OCPPCommCtrlr' }, variable: { name: 'Nope' } },
        { component: { name: 'NoController' }, variable: { name: 'X' } },
      ],
    })) as { getVariableResult: Array<{ attributeStatus: string; attributeValue?: string }> };
    expect(got.getVariableResult.map((r) => [r.attributeStatus, r.attributeValue])).toEqual([
      ['Accepted', '300'],
      ['UnknownVariable', undefined],
      ['UnknownComponent', undefined],
    ]);
    const set = (await csms.call(id, 'SetVariables', {
      setVariableData: [
        { component: { name: 'SampledDataCtrlr' }, variable: { name: 'TxUpdatedInterval' }, attributeValue: '15' },
      ],
    })) as { setVariableResult: Array<{ attributeStatus: string }> };
    expect(set.setVariableResult[0].attributeStatus).toBe('Accepted');

    expect(
      await csms.call(id, 'UpdateFirmware', {
        requestId: 7,
        firmware: { location: 'https://fw.example/sim-3.0.1.bin', retrieveDateTime: new Date().toISOString() },
      }),
    ).toEqual({ status: 'Accepted' });
    await waitFor(() => csms.of(id, 'FirmwareStatusNotification').length === 4, { what: 'firmware statuses' });
    expect(csms.of(id, 'FirmwareStatusNotification').map((c) => [c.params.status, c.params.requestId])).toEqual([
      ['Downloading', 7],
      ['Downloaded', 7],
      ['Installing', 7],
      ['Installed', 7],
    ]);

    expect(
      await csms.call(id, 'GetLog', {
        logType: 'DiagnosticsLog',
        requestId: 9,
        log: { remoteLocation: 'https://logs.example/' },
      }),
    ).toEqual({
      status: 'Accepted',
      filename: `diagnostics-${id}-9.log`,
    });
    await waitFor(() => csms.of(id, 'LogStatusNotification').length === 2, { what: 'log statuses' });
    expect(csms.of(id, 'LogStatusNotification').map((c) => [c.params.status, c.params.requestId])).toEqual([
      ['Uploading', 9],
      ['Uploaded', 9],
    ]);

    expect(
      await csms.call(id, 'RequestStartTransaction', {
        evseId: 1,
        remoteStartId: 42,
        idToken: { idToken: 'REMOTE-2', type: 'Central' },
      }),
    ).toEqual({ status: 'Accepted' });
    const started = await waitFor(() => csms.of(id, 'TransactionEvent').find((c) => c.params.eventType === 'Started'), {
      what: 'Started',
    });
    expect(started.params).toMatchObject({
      triggerReason: 'RemoteStart',
      transactionInfo: { remoteStartId: 42 },
      idToken: { idToken: 'REMOTE-2' },
    });
    expect(await csms.call(id, 'UnlockConnector', { evseId: 1, connectorId: 1 })).toEqual({
      status: 'OngoingAuthorizedTransaction',
    });
    const txId = (started.params.transactionInfo as { transactionId: string }).transactionId;
    expect(await csms.call(id, 'RequestStopTransaction', { transactionId: txId })).toEqual({ status: 'Accepted' });
    const ended = await waitFor(() => csms.of(id, 'TransactionEvent').find((c) => c.params.eventType === 'Ended'), {
      what: 'Ended',
    });
    expect(ended.params).toMatchObject({
      triggerReason: 'RemoteStop',
      transactionInfo: { transactionId: txId, stoppedReason: 'Remote' },
    });

    expect(await csms.call(id, 'Reset', { type: 'Immediate' })).toEqual({ status: 'Accepted' });
    await waitFor(() => csms.of(id, 'BootNotification').length === 2, { what: 'BootNotification after the reset' });
    const boots = csms.of(id, 'BootNotification');
    expect(boots[1].params).toMatchObject({ reason: 'RemoteReset', chargingStation: { firmwareVersion: '3.0.1' } });
    expect(boots[1].connection).toBeGreaterThan(boots[0].connection);
    expect(csms.validationFailures).toEqual([]);
    expect(sim.summary().totals.errors).toBe(0);
  });

  it.each<Protocol>(['ocpp1.6', 'ocpp2.0.1'])(
    '%s: a dropped connection reconnects and the queued transaction messages arrive after it, in order, with their original timestamps',
    async (protocol) => {
      const { csms, sim, id } = await setup({
        protocol,
        sampleIntervalSeconds: 10,
        shape: {
          base: 'quick',
          chargeSeconds: [600, 600],
          idleSeconds: [60, 60],
          suspendProbability: 0,
          stopByUnplugProbability: 0,
        },
      });
      const sampleAction = protocol === 'ocpp1.6' ? 'MeterValues' : 'TransactionEvent';
      const connectedAt: number[] = []; // station (virtual) time of each connection
      sim.on('event', (e: { kind: string }) => {
        if (e.kind === 'connected') connectedAt.push(sim.clock.virtualNow());
      });
      sim.start();
      await waitFor(() => csms.of(id, sampleAction).length >= 3, { what: 'samples before the drop' });
      csms.refuse = true;
      await csms.drop(id);
      await waitFor(
        () =>
          sim.log.filter((e) => e.kind === 'queued' && e.action === sampleAction).length >= 3 &&
          sim.log.some((e) => e.kind === 'connect-failed'),
        {
          what: 'queued samples and a refused reconnect',
        },
      );
      csms.refuse = false;
      const summary = await sim.whenDone();

      expect(csms.validationFailures).toEqual([]);
      expect(summary.stations[0]).toMatchObject({ sessionsCompleted: 1, errors: 0 });
      expect(summary.stations[0].reconnects).toBeGreaterThanOrEqual(1);
      const calls = csms.of(id);
      const first = calls[0].connection;
      const later = calls.filter((c) => c.connection !== first);
      expect(later.length).toBeGreaterThan(0);
      expect(later.some((c) => c.action === 'BootNotification')).toBe(false); // a reconnect, not a reboot
      const queuedCount = sim.log.filter((e) => e.kind === 'queued' && e.action === sampleAction).length;
      const txLater = later.filter((c) => c.action === sampleAction);
      expect(txLater.length).toBeGreaterThanOrEqual(queuedCount);
      // the whole stream of samples is in station-time order across the drop, nothing lost
      const samples = calls.filter((c) => c.action === sampleAction);
      const sampleTimes = samples.map((c) =>
        Date.parse(
          ((c.params.meterValue as Array<{ timestamp: string }> | undefined)?.[0]?.timestamp ??
            c.params.timestamp) as string,
        ),
      );
      expect(increasing(sampleTimes)).toBe(true);
      // the queued ones were stamped when they happened: before the first message the CSMS got after reconnecting
      const queuedTimes = sampleTimes.slice(
        samples.length - txLater.length,
        samples.length - txLater.length + queuedCount,
      );
      expect(queuedTimes).toHaveLength(queuedCount);
      for (const t of queuedTimes) expect(sim.clock.virtualOf(new Date(t).toISOString())).toBeLessThan(connectedAt[1]);
      if (protocol === 'ocpp2.0.1') {
        const offline = samples.filter((c) => c.params.offline === true);
        expect(offline.length).toBeGreaterThanOrEqual(queuedCount);
        expect(offline.every((c) => c.connection !== first)).toBe(true);
        const seqNos = [...new Set(samples.map((c) => c.params.seqNo as number))].sort((a, b) => a - b);
        expect(seqNos).toEqual(seqNos.map((_, i) => i));
      } else {
        expect(samples.every((c) => c.params.transactionId === 1000)).toBe(true);
        expect(csms.of(id, 'StopTransaction')).toHaveLength(1);
      }
    },
  );

  it('the same seed and start time give the same messages per station (given the same CSMS answers)', async () => {
    const run = async () => {
      const csms = new CsmsStub(PASSWORD);
      stubs.push(csms);
      const url = await csms.listen();
      const sim = new Simulation({
        url,
        stations: 2,
        connectors: 2,
        sessions: 1,
        protocol: 'mixed',
        seed: 99,
        password: PASSWORD,
        speed: 400,
        startTime: '2026-03-01T08:00:00Z',
        sampleIntervalSeconds: 60,
        backoff: { initialMs: 20, maxMs: 200 },
        shape: 'quick',
      });
      sims.push(sim);
      await sim.run();
      return sim.stations.map((s) => csms.of(s.id).map((c) => [c.action, c.params]));
    };
    const a = await run();
    const b = await run();
    expect(a[0].length).toBeGreaterThan(10);
    expect(b).toEqual(a);
  });

  it('a station with the wrong password is refused and keeps retrying with back-off', async () => {
    const { sim } = await setup({ protocol: 'ocpp1.6', password: 'wrong-password-0000' });
    sim.start();
    await waitFor(() => sim.log.filter((e) => e.kind === 'connect-failed').length >= 3, {
      what: 'three refused attempts',
    });
    const failures = sim.log.filter((e) => e.kind === 'connect-failed');
    expect(
      failures.every(
        (e) => String(e.detail?.error).includes('401') || String(e.detail?.error).includes('Unauthorized'),
      ),
    ).toBe(true);
    const delays = failures.map((e) => e.detail?.retryInMs as number);
    expect(delays[1]).toBeGreaterThan(delays[0]);
    expect(sim.summary().stations[0].sessionsStarted).toBe(0);
  });

  it('the messages fold into clean sessions: normaliser + session decider agree with the simulator, nothing to review', async () => {
    const { csms, sim } = await setup({
      protocol: 'mixed',
      stations: 2,
      connectors: 2,
      sessions: 2,
      speed: 400,
      sampleIntervalSeconds: 60,
      shape: { base: 'quick', suspendProbability: 0.5, stopByUnplugProbability: 0.5 },
    });
    const summary = await sim.run();
    expect(summary.totals).toMatchObject({ sessionsCompleted: 8, errors: 0 });
    for (const st of summary.stations) {
      // what the gateway would record: each call with our answer, received at station time (the clock runs ahead at speed 400)
      let state: SessionsState = initialState();
      const ended: SessionEnded[] = [];
      let lastTs = '2026-01-01T00:00:00.000Z';
      csms.of(st.stationId).forEach((c, n) => {
        const mv = c.params.meterValue as Array<{ timestamp: string }> | undefined;
        const ts = [c.params.timestamp as string | undefined, mv?.[mv.length - 1]?.timestamp].filter(
          (t): t is string => !!t,
        );
        for (const t of ts) if (t > lastTs) lastTs = t;
        const record: OcppInboundRecord = {
          stationId: st.stationId,
          protocol: c.protocol as OcppInboundRecord['protocol'],
          kind: 'call',
          messageId: `m${n}`,
          action: c.action,
          payload: c.params,
          response: c.response,
          receivedAt: lastTs,
          connectionId: `c${c.connection}`,
          gatewayInstance: 'test',
        };
        const { events } = normaliseOrThrow(record, {
          eventId: `${st.stationId}-${n}`,
          topic: 'ocpp.inbound',
          partition: 0,
          offset: String(n),
        });
        const out = handle({ type: 'RecordChargerEvents', events }, state);
        state = out.state;
        for (const e of out.events) if (e.type === 'session.ended') ended.push(e as SessionEnded);
      });
      expect(ended).toHaveLength(st.sessionsCompleted);
      for (const e of ended) {
        const rec = st.sessions.find((s) => String(s.transactionId) === e.payload.transactionId)!;
        expect(e.payload.closure).toBe('stop');
        expect(e.payload.dataQuality).toMatchObject({ needsReview: false, estimated: false, flags: [] });
        expect(e.payload.totals.energyWh).toBe(String(rec.energyWh));
        const categories = new Set(e.payload.chargingPeriods.map((p) => p.category));
        expect(categories.has('CHARGING')).toBe(true);
        expect(categories.has('PARKING')).toBe(true);
        expect(e.payload.chargingPeriods.some((p) => p.maxPowerW !== undefined && !p.maxPowerDerived)).toBe(true);
      }
    }
  });

  it.each<Protocol>(['ocpp1.6', 'ocpp2.0.1'])(
    '%s: a planned offline period queues the session messages, and a planned fault is reported and recovers',
    async (protocol) => {
      const { csms, sim, id } = await setup({
        protocol,
        sampleIntervalSeconds: 20,
        shape: {
          base: 'quick',
          chargeSeconds: [600, 600],
          idleSeconds: [60, 60],
          suspendProbability: 0,
          faultProbability: 1,
          faultSeconds: [60, 60],
          offlineProbability: 1,
          offlineSeconds: [120, 120],
        },
      });
      const summary = await sim.run();
      const plan = sim.plans[0].connectors[0].sessions[0];
      expect(summary.stations[0]).toMatchObject({ sessionsCompleted: 1, errors: 0 });
      expect(summary.stations[0].reconnects).toBe(1);
      expect(summary.stations[0].queuedWhileOffline).toBeGreaterThan(0);
      expect(csms.validationFailures).toEqual([]);
      const calls = csms.of(id);
      expect(new Set(calls.map((c) => c.connection)).size).toBe(2);
      expect(statuses(calls).slice(-2)).toEqual(['Faulted', 'Available']);
      if (protocol === 'ocpp1.6') {
        const faulted = calls.filter((c) => c.action === 'StatusNotification' && c.params.status === 'Faulted');
        expect(faulted.map((c) => c.params.errorCode)).toEqual([plan.faultAfter!.errorCode]);
        expect(calls[calls.length - 1].params.errorCode).toBe('NoError');
      } else {
        const events = csms
          .of(id, 'NotifyEvent')
          .map((c) => (c.params.eventData as Array<{ actualValue: string; techCode: string; cleared?: boolean }>)[0]);
        expect(events).toEqual([
          expect.objectContaining({ actualValue: 'true', techCode: plan.faultAfter!.errorCode }),
          expect.objectContaining({ actualValue: 'false', cleared: true }),
        ]);
        const offline = csms.of(id, 'TransactionEvent').filter((c) => c.params.offline === true);
        expect(offline.length).toBeGreaterThan(0);
      }
    },
  );
});
