import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { EventCatalogue, Topics, deriveId } from '@csms/contracts';
import { unsentCommandStatus, type UnsentStatus } from '@csms/ocpp-gateway-core';
import { appendToOutbox, type OutboxRelay } from '@csms/messaging';
import { actorLabel, type ActorRef } from '@csms/service-kit';
import {
  OcppCommandCompletedV1,
  OcppCommandRequestedV1,
  type OcppCommandCompleted,
  type OcppCommandRequested,
} from './command-events';

const UNSENT: ReadonlySet<string> = new Set<UnsentStatus>(['offline', 'expired', 'not_supported', 'invalid_request']);
function isUnsent(status: string): status is UnsentStatus {
  return UNSENT.has(status);
}

export const commandCatalogue = new EventCatalogue([OcppCommandRequestedV1, OcppCommandCompletedV1]);

export interface CommandView {
  commandId: string;
  stationId: string;
  action: string;
  payload: Record<string, unknown>;
  requestedAt: string;
  expiresAt: string;
  /**
   * the API key that requested it (name and role); null: requested before this was recorded, or published by
   * another service without a key (the event's `requestedBy` is then the whole record: `keyName` is its text and
   * `role` null)
   */
  requestedBy: { keyName: string; role: ActorRef['role'] | null } | null;
  status: 'pending' | OcppCommandCompleted['payload']['status'];
  result: OcppCommandCompleted['payload'] | null;
  completedAt: string | null;
  /** when and by which gateway instance the command was sent to the station (null: not sent) */
  dispatchedAt: string | null;
  dispatchedBy: string | null;
}

interface CommandRow {
  command_id: string;
  station_id: string;
  action: string;
  payload: Record<string, unknown>;
  requested_at: Date;
  expires_at: Date;
  requested_by: string | null;
  requested_by_role: ActorRef['role'] | null;
  status: CommandView['status'];
  result: OcppCommandCompleted['payload'] | null;
  completed_at: Date | null;
  dispatched_at: Date | null;
  dispatched_by: string | null;
  dispatched_protocol: OcppCommandCompleted['payload']['protocol'];
  answer_due: Date | null;
}

type ResultFields = Omit<OcppCommandCompleted['payload'], 'commandId' | 'stationId' | 'action' | 'completedAt'>;

/** What `claimDispatch` found: the command is ours to send now, or it must not be sent. */
export type DispatchClaim =
  | { claim: 'claimed' }
  | { claim: 'completed' }
  | { claim: 'expired' }
  | { claim: 'dispatched'; dispatchedBy: string; dispatchedAt: string };

function requestedOf(r: CommandRow): OcppCommandRequested['payload'] {
  return {
    commandId: r.command_id,
    stationId: r.station_id,
    action: r.action,
    payload: r.payload,
    requestedAt: r.requested_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    requestedBy: r.requested_by,
  };
}

/** the `detail` of an `interrupted` result */
export function interruptedDetail(by: string | null, at: Date | string | null, why: string): string {
  const when = at instanceof Date ? at.toISOString() : at;
  return `sent by ${by ?? 'an instance'}${when ? ` at ${when}` : ''}; ${why}: the station may or may not have carried it out; not sent again`.slice(
    0,
    1000,
  );
}

/** what the event's `requestedBy` holds for an API key: `api-key:<name>` */
const KEY_LABEL = 'api-key:';

function view(r: CommandRow): CommandView {
  const by = r.requested_by;
  return {
    ...requestedOf(r),
    requestedBy:
      by === null
        ? null
        : { keyName: by.startsWith(KEY_LABEL) ? by.slice(KEY_LABEL.length) : by, role: r.requested_by_role },
    status: r.status,
    result: r.result,
    completedAt: r.completed_at ? r.completed_at.toISOString() : null,
    dispatchedAt: r.dispatched_at ? r.dispatched_at.toISOString() : null,
    dispatchedBy: r.dispatched_by,
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
    this.outboxCatalogue = commandCatalogue.withTopics({
      [Topics.ocppCommands]: topics.commands,
      [Topics.ocppCommandResults]: topics.results,
    });
  }

  /** `by`: the API key that asked (its label goes into the event, its role into the gateway's table only) */
  async request(
    stationId: string,
    action: string,
    payload: Record<string, unknown>,
    by: ActorRef | null,
    ttlSeconds: number,
  ): Promise<CommandView> {
    const requestedBy = by ? actorLabel(by) : null;
    const at = this.now();
    const commandId = randomUUID();
    const event: OcppCommandRequested = commandCatalogue.create(OcppCommandRequestedV1, {
      id: deriveId('ocpp.command_requested', commandId),
      key: stationId,
      occurredAt: at.toISOString(),
      source: this.source,
      correlationId: commandId,
      payload: {
        commandId,
        stationId,
        action,
        payload,
        requestedAt: at.toISOString(),
        expiresAt: new Date(at.getTime() + ttlSeconds * 1000).toISOString(),
        requestedBy,
      },
    });
    const row = await this.ds.transaction(async (m) => {
      await appendToOutbox(m, this.outboxCatalogue, [event], { maxMessageBytes: this.relay.maxMessageBytes });
      return this.upsertRequested(m, event.payload, false, by?.role ?? null);
    });
    this.relay.nudge();
    return view(row);
  }

  async get(commandId: string): Promise<CommandView | undefined> {
    const [row]: CommandRow[] = await this.ds.query('select * from commands where command_id = $1', [commandId]);
    return row ? view(row) : undefined;
  }

  async hasResult(commandId: string): Promise<boolean> {
    const [row]: Array<{ status: string }> = await this.ds.query('select status from commands where command_id = $1', [
      commandId,
    ]);
    return row !== undefined && row.status !== 'pending';
  }

  /**
   * Records the outcome of a command (taken from ocpp.commands) once; true when this call recorded it.
   * `sentHere`: the caller sent the frame (or holds the dispatch it recorded and did not send). Otherwise an
   * unsent status (`offline`, `expired`, ...) for a command whose dispatch is on record (an instance sent it
   * and died before the answer) is recorded as `interrupted`: never claim that a command sent was not.
   */
  async complete(
    cmd: OcppCommandRequested['payload'],
    result: ResultFields,
    opts: { sentHere?: boolean } = {},
  ): Promise<boolean> {
    const completedAt = this.now().toISOString();
    const recorded = await this.ds.transaction(async (m) => {
      const row = await this.upsertRequested(m, cmd, true);
      if (row.status !== 'pending') return false;
      let final = result;
      if (!opts.sentHere && row.dispatched_at !== null && isUnsent(result.status)) {
        final = {
          ...result,
          status: unsentCommandStatus(result.status, true),
          protocol: row.dispatched_protocol ?? result.protocol,
          detail: interruptedDetail(
            row.dispatched_by,
            row.dispatched_at,
            'its answer was lost (the sending instance stopped or lost the connection)',
          ),
        };
      }
      const payload: OcppCommandCompleted['payload'] = {
        commandId: cmd.commandId,
        stationId: cmd.stationId,
        action: cmd.action,
        completedAt,
        ...final,
      };
      const event = commandCatalogue.create(OcppCommandCompletedV1, {
        id: deriveId('ocpp.command_completed', cmd.commandId),
        key: cmd.stationId,
        occurredAt: completedAt,
        source: this.source,
        correlationId: cmd.commandId,
        causationId: deriveId('ocpp.command_requested', cmd.commandId),
        payload,
      });
      await m.query(`update commands set status = $2, result = $3, completed_at = $4 where command_id = $1`, [
        cmd.commandId,
        payload.status,
        JSON.stringify(payload),
        completedAt,
      ]);
      await appendToOutbox(m, this.outboxCatalogue, [event], { maxMessageBytes: this.relay.maxMessageBytes });
      return true;
    });
    if (recorded) this.relay.nudge();
    return recorded;
  }

  /**
   * Records, and commits, that `instance` sends the command now: called while the station's call slot is held,
   * just before the frame goes out. Only one claim ever succeeds per command (on any instance, in any run),
   * and none once the command expired or has a result: the command reaches the station at most once.
   */
  async claimDispatch(
    cmd: OcppCommandRequested['payload'],
    instance: string,
    protocol: OcppCommandCompleted['payload']['protocol'],
    answerDue: Date,
  ): Promise<DispatchClaim> {
    const at = this.now();
    return this.ds.transaction(async (m) => {
      await this.upsertRequested(m, cmd);
      const [rows]: [unknown[], number] = await m.query(
        `update commands set dispatched_at = $2, dispatched_by = $3, dispatched_protocol = $4, answer_due = $5
         where command_id = $1 and status = 'pending' and dispatched_at is null and expires_at > $2 returning command_id`,
        [cmd.commandId, at, instance, protocol, answerDue],
      );
      if (rows.length > 0) return { claim: 'claimed' } as const;
      const [row]: CommandRow[] = await m.query('select * from commands where command_id = $1', [cmd.commandId]);
      if (row.status !== 'pending') return { claim: 'completed' } as const;
      if (row.dispatched_at !== null)
        return {
          claim: 'dispatched',
          dispatchedBy: row.dispatched_by ?? 'unknown',
          dispatchedAt: row.dispatched_at.toISOString(),
        } as const;
      return { claim: 'expired' } as const;
    });
  }

  /**
   * At start-up, before this instance sends anything: commands an earlier run of this instance (same
   * GATEWAY_INSTANCE) sent and never saw answered (it was killed) are completed `interrupted`.
   */
  async interruptDispatchedBy(instance: string): Promise<number> {
    const rows: CommandRow[] = await this.ds.query(
      `select * from commands where status = 'pending' and dispatched_at is not null and dispatched_by = $1`,
      [instance],
    );
    return this.interrupt(rows, instance, 'the gateway instance stopped before the station answered');
  }

  /**
   * Commands nobody will complete any more (any instance may run this; the first write wins): sent, and
   * their answer was due more than `graceMs` ago (the sending instance died: no other instance can get the
   * answer) → `interrupted`; never sent, and expired more than `graceMs` ago (the instance that read it died
   * before sending) → `expired`.
   */
  async sweep(instance: string, graceMs: number): Promise<{ interrupted: number; expired: number }> {
    const cutoff = new Date(this.now().getTime() - graceMs);
    const unanswered: CommandRow[] = await this.ds.query(
      `select * from commands where status = 'pending' and dispatched_at is not null and answer_due < $1 order by answer_due limit 500`,
      [cutoff],
    );
    const interrupted = await this.interrupt(
      unanswered,
      instance,
      'no answer was recorded by its answer deadline (the sending instance stopped)',
    );
    const unsent: CommandRow[] = await this.ds.query(
      `select * from commands where status = 'pending' and dispatched_at is null and expires_at < $1 order by expires_at limit 500`,
      [cutoff],
    );
    let expired = 0;
    for (const r of unsent) {
      if (
        await this.complete(requestedOf(r), {
          gatewayInstance: instance,
          status: 'expired',
          protocol: null,
          response: null,
          errorCode: null,
          detail: 'not sent before it expired',
        })
      )
        expired++;
    }
    return { interrupted, expired };
  }

  private async interrupt(rows: CommandRow[], instance: string, why: string): Promise<number> {
    let n = 0;
    for (const r of rows) {
      const done = await this.complete(
        requestedOf(r),
        {
          gatewayInstance: instance,
          status: 'interrupted',
          protocol: r.dispatched_protocol,
          response: null,
          errorCode: null,
          detail: interruptedDetail(r.dispatched_by, r.dispatched_at, why),
        },
        { sentHere: true },
      );
      if (done) n++;
    }
    return n;
  }

  /** The command row (a command published by another service has none until it is seen here); `lock`: for update. */
  private async upsertRequested(
    m: EntityManager,
    c: OcppCommandRequested['payload'],
    lock = false,
    role: ActorRef['role'] | null = null,
  ): Promise<CommandRow> {
    await m.query(
      `insert into commands (command_id, station_id, action, payload, requested_at, expires_at, requested_by, requested_by_role)
       values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (command_id) do nothing`,
      [c.commandId, c.stationId, c.action, JSON.stringify(c.payload), c.requestedAt, c.expiresAt, c.requestedBy, role],
    );
    const [row]: CommandRow[] = await m.query(
      `select * from commands where command_id = $1${lock ? ' for update' : ''}`,
      [c.commandId],
    );
    return row;
  }
}
