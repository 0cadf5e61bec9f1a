import type { EntityManager } from 'typeorm';
import {
  AccountStandingChangedV1,
  OcppCommandRequestedV1,
  deriveId,
  type Envelope,
  type EventCatalogue,
} from '@csms/contracts';
import type { Logger } from '@csms/platform';
import { projectPaymentEvents } from './projection';

export const SERVICE_SOURCE = 'payment-service';

/** A command of the payment decider (libs/payments): its type, the account, the causing input and its time. */
export interface PaymentCommandLike {
  type: string;
  accountId: string;
  sourceEventId: string;
  at: string;
}

/** A decided event: the contract's payload tagged by its type. */
export interface PaymentEventLike {
  type: string;
  accountId: string;
  sourceEventId: string;
  at: string;
  [k: string]: unknown;
}

/** What a command or event names that its account's stored state does not hold (null: not looked up). */
export interface SettledLookup {
  /** a settled session pruned from the state (`payment_settled`, kind 'session') */
  sessionId: string | null;
  /** a CDR pruned with its session (kind 'cdr') */
  cdrId: string | null;
  /** the input: decided already for this account? (payment_events' source index) */
  sourceEventId: string | null;
  /**
   * a session the account's state held before (opened, or named by a CDR: payment_events' session index): a start
   * arriving after the session was settled and pruned opens no hold
   */
  openedSessionId?: string | null;
}

/**
 * What a chunk's input may need looked up (`loadChunk` answers them all in one query): its account, the source id
 * the decision will carry, and for a CDR its session and CDR id, for a session's start its session.
 */
export interface ChunkProbe {
  accountId: string;
  sourceEventId?: string | null;
  sessionId?: string | null;
  cdrId?: string | null;
  startedSessionId?: string | null;
}

/** A row of `payment_settled`: what the stored state leaves out, written once. */
export interface SettledRow {
  kind: 'session' | 'cdr';
  id: string;
  entry: unknown;
}

/** The payment rules as the service uses them: libs/payments' decider (`rules.ts` binds it). */
export interface PaymentRules<C extends PaymentCommandLike = PaymentCommandLike, S = unknown> {
  decideAndEvolve(command: C, state: S): { events: PaymentEventLike[]; state: S };
  evolve(state: S, event: PaymentEventLike): S;
  initialState(): S;
  /** what to look up before deciding `input` (a command, or with `withSource` false an event being refolded) */
  lookup?(input: { type: string }, state: S, withSource: boolean): SettledLookup | null;
  /** the state with what the look-up found put back (the session's archive entry, the CDR id, the input id) */
  restore?(
    state: S,
    found: { session: unknown; cdrId: string | null; sourceEventId: string | null; openedSessionId?: string | null },
  ): S;
  /** the state as stored (without what is kept as rows) and the rows to write */
  offload?(state: S): { state: S; rows: SettledRow[] };
  /** the envelope of the `ordinal`-th event of a decision (key: the account; id derived from the input) */
  envelope(catalogue: EventCatalogue, e: PaymentEventLike, ordinal: number): Envelope;
}

/**
 * The account states of one consumer chunk: locked (in sorted order, so chunks never deadlock) and read once at its
 * start, decided against in memory, written once at its end — with the chunk's decided events, whose rows (events,
 * intents, ledger) are written at its end too, in one insert per table.
 */
export class StateCache extends Map<string, { state: unknown; dirty: boolean; events: number; at: string }> {
  /** the chunk's decided events, in decision order, not yet applied to the tables */
  readonly unprojected: Envelope[] = [];
  /** account + input ids the chunk decided (their events may not be in payment_events yet) */
  readonly sources = new Set<string>();
  /**
   * Look-ups answered at the chunk's start (`loadChunk`'s probes), as of then: `s`/`c` a `payment_settled` session
   * entry (null: none) / CDR id, `e` an input decided, `o` a session opened before, each keyed by kind, account and
   * id. Rows and events the chunk itself writes reach the tables only at its end (`flushChunk`); until then the
   * chunk's states and `sources`/`unprojected` answer for them, so an answer from the start stays true.
   */
  readonly answered = new Map<string, unknown>();
}

const key = (kind: string, accountId: string, id: string): string => `${kind}\u0000${accountId}\u0000${id}`;

/** Effects of a decision outside payment.events (the ad-hoc payment's token and remote start: `AdhocEffects`). */
export interface DecisionEffects {
  afterDecision(m: EntityManager, envs: readonly Envelope[], state: unknown): Promise<Envelope[]>;
}

/** What session.started said about a session: where to send its stop. */
export interface SessionRef {
  session_id: string;
  station_id: string;
  protocol: string;
  transaction_id: string;
}

/**
 * load -> decide -> save for one billing account, in the caller's transaction: the account's decider state is
 * read under a transaction-scoped lock on the account (consumers, the effect runner, webhooks and the API all
 * decide through here, one at a time per account), the decided events are folded into it, applied to the tables
 * (`projectPaymentEvent`) and returned as envelopes for the outbox, with the remote stop of a session that cannot be
 * paid (`payment.session_stop_requested` -> `ocpp.command_requested` on ocpp.commands).
 */
export class PaymentEngine {
  /**
   * The account states this process last wrote (or read), with the row version they were written as (`xmin`, the
   * writing transaction's id, and the row's event count): under the account's lock a state whose row still has that
   * version is taken from here instead of being read and parsed again. A write rolled back leaves the row's older
   * version (a transaction id comes back only after some 4 billion transactions, and the event count must match
   * too), another writer (an instance, the API) a newer one: either way the state is read. Bounded (`stateCacheSize` accounts, 1,000 by default, the least recently used go first: a
   * long-lived card account's state can reach some 100 KB).
   */
  private readonly known = new Map<string, { version: string; state: unknown }>();
  private readonly knownMax: number;

  constructor(
    private readonly rules: PaymentRules,
    private readonly catalogue: EventCatalogue,
    private readonly opts: {
      stopCommandTtlS: number;
      logger?: Logger;
      stateCacheSize?: number;
      adhoc?: DecisionEffects;
    },
  ) {
    this.knownMax = opts.stateCacheSize ?? 1000;
  }

  private remember(accountId: string, version: string, state: unknown): void {
    this.known.delete(accountId);
    this.known.set(accountId, { version, state });
    if (this.known.size > this.knownMax) this.known.delete(this.known.keys().next().value!);
  }

  async lockAccount(m: EntityManager, accountId: string): Promise<void> {
    await m.query('select pg_advisory_xact_lock(hashtextextended($1, 7301))', [accountId]);
  }

  /**
   * Locks the accounts (sorted: two transactions always take them in the same order) and reads their states; with
   * `probes` (what the chunk's inputs name), answers in one more query what each decision would otherwise look up
   * on its own (`withSettled`): one query per chunk instead of one per decision.
   */
  async loadChunk(
    m: EntityManager,
    accountIds: Iterable<string>,
    probes: readonly ChunkProbe[] = [],
  ): Promise<StateCache> {
    const ids = [...new Set(accountIds)].sort();
    const cache = new StateCache();
    if (ids.length === 0) return cache;
    await m.query('select pg_advisory_xact_lock(hashtextextended(k, 7301)) from unnest($1::text[]) as k order by k', [
      ids,
    ]);
    // the state itself only where this process does not hold that version of it
    const held = new Map(ids.map((id) => [id, this.known.get(id)]));
    const rows: Array<{ account_id: string; version: string; state: unknown }> = await m.query(
      `select a.account_id, a.xmin || ':' || a.events as version,
              case when a.xmin || ':' || a.events = k.v then null else a.state end as state
         from account_state a join unnest($1::text[], $2::text[]) as k(id, v) on a.account_id = k.id`,
      [ids, ids.map((id) => held.get(id)?.version ?? null)],
    );
    const found = new Map<string, unknown>();
    for (const r of rows) {
      const state = r.state ?? held.get(r.account_id)!.state;
      found.set(r.account_id, state);
      this.remember(r.account_id, r.version, state);
    }
    for (const id of ids)
      cache.set(id, { state: found.get(id) ?? this.rules.initialState(), dirty: false, events: 0, at: '' });
    if (probes.length > 0 && this.rules.lookup) await this.answerProbes(m, cache, probes);
    return cache;
  }

  /** The chunk's look-ups in one statement (index / primary-key probes, planned once per chunk). */
  private async answerProbes(m: EntityManager, cache: StateCache, probes: readonly ChunkProbe[]): Promise<void> {
    const ps = probes.filter((p) => cache.has(p.accountId));
    if (ps.length === 0) return;
    const rows: Array<{ n: number; session: unknown; cdr: boolean; seen: boolean; opened: boolean }> = await m.query(
      `select k.n,
              (select s.entry from payment_settled s where s.account_id = k.a and s.kind = 'session' and s.id = k.sid)
                as session,
              k.cid is not null and exists (select 1 from payment_settled s
                 where s.account_id = k.a and s.kind = 'cdr' and s.id = k.cid) as cdr,
              k.src is not null and exists (select 1 from payment_events e
                 where e.account_id = k.a and e.payload->>'sourceEventId' = k.src) as seen,
              k.st is not null and exists (select 1 from payment_events e
                 where e.session_id = k.st and e.account_id = k.a
                   and e.type in ('payment.session_opened', 'payment.cdr_recorded')) as opened
         from json_to_recordset($1::json) as k(n int, a text, src text, sid text, cid text, st text)`,
      [
        JSON.stringify(
          ps.map((p, n) => ({
            n,
            a: p.accountId,
            src: p.sourceEventId ?? null,
            sid: p.sessionId ?? null,
            cid: p.cdrId ?? null,
            st: p.startedSessionId ?? null,
          })),
        ),
      ],
    );
    for (const r of rows) {
      const p = ps[r.n];
      if (p.sessionId) cache.answered.set(key('s', p.accountId, p.sessionId), r.session ?? null);
      if (p.cdrId) cache.answered.set(key('c', p.accountId, p.cdrId), r.cdr);
      if (p.sourceEventId) cache.answered.set(key('e', p.accountId, p.sourceEventId), r.seen);
      if (p.startedSessionId) cache.answered.set(key('o', p.accountId, p.startedSessionId), r.opened);
    }
  }

  /** Writes a chunk's decided events to the tables and the states it changed, in a few statements. */
  async flushChunk(m: EntityManager, cache: StateCache): Promise<void> {
    if (cache.unprojected.length > 0) await projectPaymentEvents(m, cache.unprojected.splice(0));
    const dirty = [...cache].filter(([, c]) => c.dirty);
    if (dirty.length === 0) return;
    const stored = await this.writeStates(
      m,
      dirty.map(([id, c]) => ({ id, state: c.state, events: c.events, at: c.at })),
    );
    for (const [id, c] of dirty) {
      c.state = stored.get(id) ?? c.state;
      c.dirty = false;
      c.events = 0;
    }
  }

  /**
   * Puts back into `state` what `input` names and the stored state leaves out (rules.lookup/restore): a settled
   * session and a CDR id from `payment_settled`, and whether the input was decided already (payment_events' source
   * index, or the chunk's own decisions). What the chunk's start answered (`loadChunk`'s probes) is taken from there;
   * the rest in one primary-key / index look-up, only when the state does not answer.
   */
  private async withSettled(
    m: EntityManager,
    accountId: string,
    input: { type: string },
    state: unknown,
    withSource: boolean,
    cache?: StateCache,
  ): Promise<unknown> {
    const l = this.rules.lookup?.(input, state, withSource);
    if (!l || !this.rules.restore) return state;
    const answered = cache?.answered;
    /** a look-up answered at the chunk's start: its answer, and no query for it */
    const pre = (kind: string, id: string | null): { hit: boolean; v: unknown } =>
      id !== null && answered?.has(key(kind, accountId, id))
        ? { hit: true, v: answered.get(key(kind, accountId, id)) }
        : { hit: false, v: undefined };
    let seen: string | null = null;
    let source = l.sourceEventId;
    if (source !== null && cache?.sources.has(`${accountId}\u0000${source}`)) {
      seen = source;
      source = null;
    }
    const preSeen = pre('e', source);
    if (preSeen.hit) {
      if (preSeen.v) seen = source;
      source = null;
    }
    let opened: string | null = null;
    let openedQuery = l.openedSessionId ?? null;
    if (
      openedQuery !== null &&
      cache?.unprojected.some(
        (e) =>
          (e.type === 'payment.session_opened' || e.type === 'payment.cdr_recorded') &&
          (e.payload as { accountId?: string; sessionId?: string }).accountId === accountId &&
          (e.payload as { sessionId?: string }).sessionId === openedQuery,
      )
    ) {
      opened = openedQuery;
      openedQuery = null;
    }
    const preOpened = pre('o', openedQuery);
    if (preOpened.hit) {
      if (preOpened.v) opened = openedQuery;
      openedQuery = null;
    }
    let session: unknown = null;
    let sessionQuery = l.sessionId;
    const preSession = pre('s', sessionQuery);
    if (preSession.hit) {
      session = preSession.v ?? null;
      sessionQuery = null;
    }
    let cdr = false;
    let cdrQuery = l.cdrId;
    const preCdr = pre('c', cdrQuery);
    if (preCdr.hit) {
      cdr = preCdr.v === true;
      cdrQuery = null;
    }
    if (sessionQuery !== null || cdrQuery !== null || source !== null || openedQuery !== null) {
      const [r]: Array<{ session: unknown; cdr: boolean; seen: boolean; opened: boolean }> = await m.query(
        `select (select entry from payment_settled where account_id = $1 and kind = 'session' and id = $2) as session,
                exists (select 1 from payment_settled where account_id = $1 and kind = 'cdr' and id = $3) as cdr,
                $4::text is not null and exists (select 1 from payment_events
                   where account_id = $1 and payload->>'sourceEventId' = $4) as seen,
                $5::text is not null and exists (select 1 from payment_events
                   where session_id = $5 and account_id = $1
                     and type in ('payment.session_opened', 'payment.cdr_recorded')) as opened`,
        [accountId, sessionQuery, cdrQuery, source, openedQuery],
      );
      if (sessionQuery !== null) session = r.session ?? null;
      if (cdrQuery !== null) cdr = r.cdr;
      if (r.seen) seen = source;
      if (r.opened) opened = openedQuery;
    }
    if (session === null && !cdr && seen === null && opened === null) return state;
    return this.rules.restore(state, {
      session,
      cdrId: cdr ? l.cdrId : null,
      sourceEventId: seen,
      openedSessionId: opened,
    });
  }

  /**
   * Writes account states in one statement: one JSON document for all of them (the states inside it as they are,
   * not each a string escaped again into an array literal), and remembers each with the version it was written as.
   */
  private async writeStates(
    m: EntityManager,
    states: ReadonlyArray<{ id: string; state: unknown; events: number; at: string }>,
  ): Promise<Map<string, unknown>> {
    // what the stored state leaves out goes to payment_settled (written again only if pruned again)
    const settled: Array<{ a: string; k: string; i: string; e: unknown }> = [];
    const rows = states.map((r) => {
      const o = this.rules.offload?.(r.state);
      if (!o) return r;
      for (const x of o.rows) settled.push({ a: r.id, k: x.kind, i: x.id, e: x.entry });
      return { ...r, state: o.state };
    });
    if (settled.length > 0)
      await m.query(
        `insert into payment_settled (account_id, kind, id, entry)
         select x.a, x.k, x.i, x.e from json_to_recordset($1::json) as x(a text, k text, i text, e json)
         on conflict (account_id, kind, id) do update set entry = excluded.entry`,
        [JSON.stringify(settled)],
      );
    const written: Array<{ account_id: string; version: string }> = await m.query(
      `insert into account_state (account_id, state, events, updated_at)
       select x.i, x.s, x.e, x.t from json_to_recordset($1::json) as x(i text, s json, e bigint, t timestamptz)
       on conflict (account_id) do update set state = excluded.state, events = account_state.events + excluded.events,
         updated_at = excluded.updated_at
       returning account_id, xmin || ':' || events as version`,
      [JSON.stringify(rows.map((r) => ({ i: r.id, s: r.state, e: r.events, t: r.at })))],
    );
    const byId = new Map(rows.map((r) => [r.id, r.state]));
    for (const w of written) this.remember(w.account_id, w.version, byId.get(w.account_id));
    return byId;
  }

  async stateOf(m: EntityManager, accountId: string): Promise<unknown> {
    const held = this.known.get(accountId);
    const rows: Array<{ version: string; state: unknown }> = await m.query(
      `select xmin || ':' || events as version, case when xmin || ':' || events = $2 then null else state end as state
         from account_state where account_id = $1`,
      [accountId, held?.version ?? null],
    );
    if (rows.length === 0) return this.rules.initialState();
    // the decider's state is JSON-safe (amounts as integer strings): the json column gives it back as it was
    const state = rows[0].state ?? held!.state;
    this.remember(accountId, rows[0].version, state);
    return state;
  }

  async accountExists(m: EntityManager, accountId: string, cache?: StateCache): Promise<boolean> {
    const cached = cache?.get(accountId);
    if (cached) return cached.events > 0 || (cached.state as { accountId?: unknown }).accountId != null;
    const rows: unknown[] = await m.query('select 1 from account_state where account_id = $1', [accountId]);
    return rows.length > 0;
  }

  /**
   * Decides `command` for its account and saves the outcome; returns the envelopes to emit (none: nothing to do).
   * With a chunk's `cache` holding the account (locked and read at the chunk's start), the state is taken from and
   * left in the cache (`flushChunk` writes it); otherwise it is locked, read and written here.
   */
  async decide(m: EntityManager, command: PaymentCommandLike, cache?: StateCache): Promise<Envelope[]> {
    const cached = cache?.get(command.accountId);
    if (!cached) await this.lockAccount(m, command.accountId);
    const state = await this.withSettled(
      m,
      command.accountId,
      command,
      cached ? cached.state : await this.stateOf(m, command.accountId),
      true,
      cache,
    );
    const { events, state: next } = this.rules.decideAndEvolve(command, state);
    if (events.length === 0) return [];
    cache?.sources.add(`${command.accountId}\u0000${command.sourceEventId}`);
    if (cached)
      Object.assign(cached, { state: next, dirty: true, events: cached.events + events.length, at: command.at });
    else await this.saveState(m, command.accountId, next, events.length, command.at);
    const envs = events.map((e, i) => this.rules.envelope(this.catalogue, e, i));
    // in a chunk: applied to the tables at its end (flushChunk), all of them at once
    if (cache) cache.unprojected.push(...envs);
    else await projectPaymentEvents(m, envs);
    const out: Envelope[] = [...envs];
    for (const [i, env] of envs.entries())
      if (env.type === 'payment.session_stop_requested') {
        const stop = await this.stopCommand(m, env);
        if (stop) out.push(stop);
      } else if (env.type === 'payment.account_blocked' || env.type === 'payment.account_unblocked') {
        out.push(this.standing(env, i));
      }
    // an ad-hoc payment's one-time token and remote start (registry.tokens, ocpp.commands)
    if (this.opts.adhoc) out.push(...(await this.opts.adhoc.afterDecision(m, envs, next)));
    return out;
  }

  /**
   * Folds events read back from payment.events (rebuild), in their order: the tables and the accounts' states,
   * never a PSP call or a command. Events applied before change nothing.
   */
  async refold(m: EntityManager, envs: readonly Envelope[]): Promise<void> {
    const known: Array<{ event_id: string }> = await m.query(
      'select event_id from payment_events where event_id = any($1::uuid[])',
      [envs.map((e) => e.id)],
    );
    const seen = new Set(known.map((r) => r.event_id));
    const fresh = envs.filter((e) => !seen.has(e.id));
    if (fresh.length === 0) return;
    await projectPaymentEvents(m, fresh);
    const cache = new StateCache();
    for (const env of fresh) {
      const accountId = (env.payload as { accountId: string }).accountId;
      let c = cache.get(accountId);
      if (!c) {
        c = { state: await this.stateOf(m, accountId), dirty: false, events: 0, at: '' };
        cache.set(accountId, c);
      }
      const event = { type: env.type, ...(env.payload as object) } as PaymentEventLike;
      const state = await this.withSettled(m, accountId, event, c.state, false);
      Object.assign(c, { state: this.rules.evolve(state, event), dirty: true, events: c.events + 1, at: event.at });
    }
    await this.flushChunk(m, cache);
  }

  private async saveState(m: EntityManager, accountId: string, state: unknown, n: number, at: string): Promise<void> {
    await this.writeStates(m, [{ id: accountId, state, events: n, at }]);
  }

  /**
   * The account's standing for the gateway's registry (compacted registry.accounts, key = account id): whether its
   * tokens may be authorised. The revision orders the standings of one account: the decision's time in ms × 100 + the
   * event's place in its decision, so a later decision always wins and a replay writes the same record.
   */
  standing(env: Envelope, ordinal: number): Envelope {
    const p = env.payload as { accountId: string; reason: string };
    return this.catalogue.create(AccountStandingChangedV1, {
      id: deriveId('payment-account-standing', env.id),
      key: p.accountId,
      occurredAt: env.occurredAt,
      source: SERVICE_SOURCE,
      causationId: env.id,
      payload: {
        accountId: p.accountId,
        canPay: env.type === 'payment.account_unblocked',
        reason: p.reason,
        revision: Date.parse(env.occurredAt) * 100 + Math.min(ordinal, 99) + 1,
      },
    });
  }

  /**
   * The remote stop of a session that cannot be paid: RemoteStopTransaction (OCPP 1.6, integer transactionId) or
   * RequestStopTransaction (2.0.1, string transactionId), by the protocol session.started named. Its id is derived
   * from the stop event's, so a replayed decision sends no second command.
   */
  async stopCommand(m: EntityManager, env: Envelope): Promise<Envelope | null> {
    const p = env.payload as { sessionId: string; stationId: string; transactionId: string | null };
    const rows: SessionRef[] = await m.query(
      'select session_id, station_id, protocol, transaction_id from payment_sessions where session_id = $1',
      [p.sessionId],
    );
    const ref = rows[0];
    const transactionId = p.transactionId ?? ref?.transaction_id ?? null;
    const protocol = ref?.protocol ?? null;
    if (transactionId === null || protocol === null) {
      this.opts.logger?.warn(
        { sessionId: p.sessionId, stationId: p.stationId },
        'session to stop: its protocol or transaction id is not known; no remote stop sent',
      );
      return null;
    }
    const v16 = protocol === 'ocpp1.6';
    if (v16 && !/^-?\d{1,10}$/.test(transactionId)) {
      this.opts.logger?.warn({ sessionId: p.sessionId, transactionId }, 'OCPP 1.6 transaction id is not an integer');
      return null;
    }
    const requestedAt = env.occurredAt;
    const expiresAt = new Date(Date.parse(requestedAt) + this.opts.stopCommandTtlS * 1000).toISOString();
    return this.catalogue.create(OcppCommandRequestedV1, {
      id: deriveId('payment-stop-command', env.id),
      key: ref?.station_id ?? p.stationId,
      occurredAt: requestedAt,
      source: SERVICE_SOURCE,
      causationId: env.id,
      payload: {
        commandId: deriveId('payment-stop-command-id', env.id),
        stationId: ref?.station_id ?? p.stationId,
        action: v16 ? 'RemoteStopTransaction' : 'RequestStopTransaction',
        payload: v16 ? { transactionId: Number(transactionId) } : { transactionId },
        requestedAt,
        expiresAt,
        requestedBy: SERVICE_SOURCE,
      },
    });
  }
}
