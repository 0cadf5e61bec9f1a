import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { EventCatalogue, Topics, deriveId } from '@csms/contracts';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import { OcppCommandCompletedV1, OcppCommandRequestedV1, type OcppCommandCompleted, type OcppCommandRequested } from './command-events';

export const commandCatalogue = new EventCatalogue([OcppCommandRequestedV1, OcppCommandCompletedV1]);

export interface CommandView {
  commandId: string;
  stationId: string;
  action: string;
  payload: Record<string, unknown>;
  requestedAt: string;
  expiresAt: string;
  requestedBy: string | null;
  status: 'pending' | OcppCommandCompleted['payload']['status'];
  result: OcppCommandCompleted['payload'] | null;
  completedAt: string | null;
}

interface CommandRow {
  command_id: string;
  station_id: string;
  action: string;
  payload: Record<string, unknown>;
  requested_at: Date;
  expires_at: Date;
  requested_by: string | null;
  status: CommandView['status'];
  result: OcppCommandCompleted['payload'] | null;
  completed_at: Date | null;
}

function view(r: CommandRow): CommandView {
  return {
    commandId: r.command_id,
    stationId: r.station_id,
    action: r.action,
    payload: r.payload,
    requestedAt: r.requested_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    requestedBy: r.requested_by,
    status: r.status,
    result: r.result,
    completedAt: r.completed_at ? r.completed_at.toISOString() : null,
  };
}

/**
 * Commands and their results in the gateway's database, each change with its event in the outbox (one
 * transaction, ADR 0003). A result is recorded once: the first instance to complete a command wins and
 * later completions (e.g. several instances saying `offline`) change nothing and publish nothing.
 */
export class CommandService {
  /** the command events with the topic names of this deployment (OCPP_COMMANDS_TOPIC / _RESULTS) */
  private readonly outboxCatalogue: EventCatalogue;

  constructor(
    private readonly ds: DataSource,
    private readonly relay: OutboxRelay,
    topics: { commands: string; results: string },
    private readonly source: string,
    private readonly now: () => Date,
  ) {
    this.outboxCatalogue = commandCatalogue.withTopics({ [Topics.ocppCommands]: topics.commands, [Topics.ocppCommandResults]: topics.results });
  }

  async request(stationId: string, action: string, payload: Record<string, unknown>, requestedBy: string | null, ttlSeconds: number): Promise<CommandView> {
    const at = this.now();
    const commandId = randomUUID();
    const event: OcppCommandRequested = commandCatalogue.create(OcppCommandRequestedV1, {
      id: deriveId('ocpp.command_requested', commandId),
      key: stationId,
      occurredAt: at.toISOString(),
      source: this.source,
      correlationId: commandId,
      payload: { commandId, stationId, action, payload, requestedAt: at.toISOString(), expiresAt: new Date(at.getTime() + ttlSeconds * 1000).toISOString(), requestedBy },
    });
    const row = await this.ds.transaction(async (m) => {
      await appendToOutbox(m, this.outboxCatalogue, [event]);
      return this.upsertRequested(m, event.payload);
    });
    this.relay.nudge();
    return view(row);
  }

  async get(commandId: string): Promise<CommandView | undefined> {
    const [row]: CommandRow[] = await this.ds.query('select * from commands where command_id = $1', [commandId]);
    return row ? view(row) : undefined;
  }

  async hasResult(commandId: string): Promise<boolean> {
    const [row]: Array<{ status: string }> = await this.ds.query('select status from commands where command_id = $1', [commandId]);
    return row !== undefined && row.status !== 'pending';
  }

  /** Records the outcome of a command (taken from ocpp.commands) once; true when this call recorded it. */
  async complete(cmd: OcppCommandRequested['payload'], result: Omit<OcppCommandCompleted['payload'], 'commandId' | 'stationId' | 'action' | 'completedAt'>): Promise<boolean> {
    const completedAt = this.now().toISOString();
    const payload: OcppCommandCompleted['payload'] = { commandId: cmd.commandId, stationId: cmd.stationId, action: cmd.action, completedAt, ...result };
    const event = commandCatalogue.create(OcppCommandCompletedV1, {
      id: deriveId('ocpp.command_completed', cmd.commandId),
      key: cmd.stationId,
      occurredAt: completedAt,
      source: this.source,
      correlationId: cmd.commandId,
      causationId: deriveId('ocpp.command_requested', cmd.commandId),
      payload,
    });
    const recorded = await this.ds.transaction(async (m) => {
      await this.upsertRequested(m, cmd);
      const [rows]: [unknown[], number] = await m.query(
        `update commands set status = $2, result = $3, completed_at = $4 where command_id = $1 and status = 'pending' returning command_id`,
        [cmd.commandId, payload.status, JSON.stringify(payload), completedAt],
      );
      if (rows.length === 0) return false;
      await appendToOutbox(m, this.outboxCatalogue, [event]);
      return true;
    });
    if (recorded) this.relay.nudge();
    return recorded;
  }

  /** The command row (a command published by another service has none until it is seen here). */
  private async upsertRequested(m: EntityManager, c: OcppCommandRequested['payload']): Promise<CommandRow> {
    await m.query(
      `insert into commands (command_id, station_id, action, payload, requested_at, expires_at, requested_by)
       values ($1, $2, $3, $4, $5, $6, $7) on conflict (command_id) do nothing`,
      [c.commandId, c.stationId, c.action, JSON.stringify(c.payload), c.requestedAt, c.expiresAt, c.requestedBy],
    );
    const [row]: CommandRow[] = await m.query('select * from commands where command_id = $1', [c.commandId]);
    return row;
  }
}
