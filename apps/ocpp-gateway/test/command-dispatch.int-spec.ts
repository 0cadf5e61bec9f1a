import { randomUUID } from 'node:crypto';
import type { OutboxRelay } from '@csms/messaging';
import { createTestDatabase, type TestDatabase } from '@csms/testing';
import { CommandService } from '../src/commands/command.service';
import type { OcppCommandRequested } from '../src/commands/command-events';
import { gatewayMigrations } from '../src/migrations';

/*
 * The dispatch record that makes remote commands at most once (real PostgreSQL, a clock of the test's own):
 * one claim per command ever, nothing claimed once expired or completed, a dispatched command never reported
 * as unsent, and the sweep and start-up recovery of commands whose sender died.
 */
describe('command dispatch record (PostgreSQL)', () => {
  let db: TestDatabase;
  let svc: CommandService;
  let now = new Date('2026-03-01T10:00:00.000Z');
  const relay = { nudge: () => undefined } as unknown as OutboxRelay;
  const base = { response: null, errorCode: null, detail: null };

  const command = (ttlS = 300): OcppCommandRequested['payload'] => ({
    commandId: randomUUID(),
    stationId: 'CP-1',
    action: 'Reset',
    payload: { type: 'Hard' },
    requestedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ttlS * 1000).toISOString(),
    requestedBy: null,
  });
  const later = (ms: number) => (now = new Date(now.getTime() + ms));
  const outboxResults = async (commandId: string): Promise<string[]> =>
    (
      await db.dataSource.query(
        `select value from outbox where topic = 'ocpp.command_results' and value like $1 order by position`,
        [`%${commandId}%`],
      )
    ).map((r: { value: string }) => (JSON.parse(r.value) as { payload: { status: string } }).payload.status);

  beforeAll(async () => {
    db = await createTestDatabase('gw_dispatch', gatewayMigrations);
    svc = new CommandService(
      db.dataSource,
      relay,
      { commands: 'ocpp.commands', results: 'ocpp.command_results' },
      'ocpp-gateway/test',
      () => now,
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records who requested a command: the key name in the event (api-key:<name>), name and role in the table and the view', async () => {
    const requested = await svc.request(
      'CP-1',
      'Reset',
      { type: 'Soft' },
      { keyName: 'ops-console', role: 'operator' },
      300,
    );
    expect(requested.requestedBy).toEqual({ keyName: 'ops-console', role: 'operator' });
    expect((await svc.get(requested.commandId))?.requestedBy).toEqual({ keyName: 'ops-console', role: 'operator' });
    const [row] = await db.dataSource.query(
      'select requested_by, requested_by_role from commands where command_id = $1',
      [requested.commandId],
    );
    expect(row).toEqual({ requested_by: 'api-key:ops-console', requested_by_role: 'operator' });
    const [event] = await db.dataSource.query(
      `select value from outbox where topic = 'ocpp.commands' and value like $1`,
      [`%${requested.commandId}%`],
    );
    expect(JSON.parse(event.value) as { version: number; payload: { requestedBy: unknown } }).toMatchObject({
      version: 1,
      payload: { requestedBy: 'api-key:ops-console' },
    });
    expect(event.value).not.toContain('operator');
    // its completion keeps who asked
    expect(
      await svc.complete(
        { ...requested, requestedBy: 'api-key:ops-console' },
        { ...base, gatewayInstance: 'gw-1', status: 'offline', protocol: null },
      ),
    ).toBe(true);
    expect((await svc.get(requested.commandId))?.requestedBy).toEqual({ keyName: 'ops-console', role: 'operator' });

    // a command read from the topic only (published without a key, or by another service) has no role here
    const anonymous = command();
    await svc.complete(anonymous, { ...base, gatewayInstance: 'gw-1', status: 'offline', protocol: null });
    expect((await svc.get(anonymous.commandId))?.requestedBy).toBeNull();
    const other = { ...command(), requestedBy: 'billing-batch' };
    await svc.complete(other, { ...base, gatewayInstance: 'gw-1', status: 'offline', protocol: null });
    expect((await svc.get(other.commandId))?.requestedBy).toEqual({ keyName: 'billing-batch', role: null });
  });

  it('lets one claim win per command, ever; a second finds it dispatched and records interrupted, never offline', async () => {
    const cmd = command();
    expect(await svc.claimDispatch(cmd, 'gw-1', 'ocpp1.6', new Date(now.getTime() + 30_000))).toEqual({
      claim: 'claimed',
    });
    expect(await svc.claimDispatch(cmd, 'gw-2', 'ocpp1.6', new Date(now.getTime() + 30_000))).toEqual({
      claim: 'dispatched',
      dispatchedBy: 'gw-1',
      dispatchedAt: now.toISOString(),
    });
    // an instance that does not hold the station says offline: the dispatch on record makes it interrupted
    expect(await svc.complete(cmd, { ...base, gatewayInstance: 'gw-2', status: 'offline', protocol: null })).toBe(true);
    const view = await svc.get(cmd.commandId);
    expect(view).toEqual(
      expect.objectContaining({ status: 'interrupted', dispatchedBy: 'gw-1', dispatchedAt: now.toISOString() }),
    );
    expect(view!.result).toEqual(
      expect.objectContaining({ status: 'interrupted', protocol: 'ocpp1.6', gatewayInstance: 'gw-2' }),
    );
    expect(await svc.claimDispatch(cmd, 'gw-1', 'ocpp1.6', now)).toEqual({ claim: 'completed' });
    expect(await outboxResults(cmd.commandId)).toEqual(['interrupted']);
  });

  it('claims nothing once the command expired', async () => {
    const cmd = command(5);
    later(5_000);
    expect(await svc.claimDispatch(cmd, 'gw-1', 'ocpp1.6', now)).toEqual({ claim: 'expired' });
    expect((await svc.get(cmd.commandId))!.dispatchedAt).toBeNull();
  });

  it('at start-up, completes interrupted what an earlier run of the same instance sent; the sweep, what a dead instance sent', async () => {
    const mine = command();
    const theirs = command();
    const answered = command();
    const offline = command();
    await svc.claimDispatch(mine, 'gw-restarting', 'ocpp2.0.1', new Date(now.getTime() + 30_000));
    await svc.claimDispatch(theirs, 'gw-dead', 'ocpp1.6', new Date(now.getTime() + 30_000));
    await svc.claimDispatch(answered, 'gw-dead', 'ocpp1.6', new Date(now.getTime() + 30_000));
    await svc.complete(
      answered,
      {
        ...base,
        gatewayInstance: 'gw-dead',
        status: 'accepted',
        protocol: 'ocpp1.6',
        response: { status: 'Accepted' },
      },
      { sentHere: true },
    );
    await svc.complete(offline, { ...base, gatewayInstance: 'gw-x', status: 'offline', protocol: null });

    expect(await svc.interruptDispatchedBy('gw-restarting')).toBe(1);
    expect(await svc.get(mine.commandId)).toEqual(expect.objectContaining({ status: 'interrupted' }));
    expect((await svc.get(theirs.commandId))!.status).toBe('pending');

    // within the answer deadline + grace nothing is interrupted (gw-dead might still be waiting for the answer)
    later(30_000 + 59_000);
    expect((await svc.sweep('gw-live', 60_000)).interrupted).toBe(0);
    later(2_000);
    expect((await svc.sweep('gw-live', 60_000)).interrupted).toBe(1);
    expect(await svc.get(theirs.commandId)).toEqual(
      expect.objectContaining({ status: 'interrupted', dispatchedBy: 'gw-dead' }),
    );
    expect((await svc.get(theirs.commandId))!.result).toEqual(
      expect.objectContaining({ gatewayInstance: 'gw-live', protocol: 'ocpp1.6' }),
    );
    expect((await svc.get(answered.commandId))!.status).toBe('accepted');
    expect((await svc.get(offline.commandId))!.status).toBe('offline');
    expect(await outboxResults(theirs.commandId)).toEqual(['interrupted']);
  });

  it('the sweep completes expired a command read but never sent (its reader died before sending)', async () => {
    const cmd = command(10);
    // the row exists (an API request writes it), no dispatch
    await db.dataSource.query(
      `insert into commands (command_id, station_id, action, payload, requested_at, expires_at, requested_by) values ($1, $2, $3, $4, $5, $6, null)`,
      [cmd.commandId, cmd.stationId, cmd.action, JSON.stringify(cmd.payload), cmd.requestedAt, cmd.expiresAt],
    );
    later(10_000 + 30_000);
    expect((await svc.sweep('gw-live', 60_000)).expired).toBe(0);
    later(31_000);
    expect((await svc.sweep('gw-live', 60_000)).expired).toBeGreaterThanOrEqual(1);
    expect(await svc.get(cmd.commandId)).toEqual(expect.objectContaining({ status: 'expired', dispatchedAt: null }));
  });
});
