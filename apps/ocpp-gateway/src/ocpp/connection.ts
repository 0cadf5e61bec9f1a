import { randomUUID } from 'node:crypto';
import type WebSocket from 'ws';
import { isOcppAction, type OcppProtocol } from '@csms/ocpp';
import {
  BadMessageBudget,
  TokenBucket,
  isStationAction,
  callErrorCode,
  decideRoute,
  encodeCall,
  encodeCallError,
  encodeCallResult,
  parseFrame,
  type CallErrorCode,
  type CallFrame,
  type JsonObject,
  type OcppSchemaValidator,
  type RateLimit,
  type TokenRecord,
} from '@csms/ocpp-gateway-core';
import type { Logger } from '@csms/platform';
import type { HandlerContext, RoutingTable } from './handler';
import type { InboundFact, InboundRecorder } from './inbound-recorder';

/** WebSocket close codes the gateway uses. */
export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  policyViolation: 1008,
  tooBig: 1009,
} as const;

export interface ConnectionOptions {
  maxBadMessages: number;
  callTimeoutMs: number;
  /** the station's CALLs: a token bucket per connection; null = no limit */
  rateLimit?: RateLimit | null;
  /** monotonic ms for the rate limit */
  clockMs?: () => number;
}

export type CallOutcome =
  | { status: 'accepted'; payload: JsonObject }
  | { status: 'error'; errorCode: string; errorDescription: string }
  | { status: 'invalid_response'; detail: string }
  | { status: 'timed_out' }
  | { status: 'offline' }
  /** the frame went out but the connection closed before the station answered */
  | { status: 'interrupted'; detail: string };

const handledSets = new WeakMap<RoutingTable, ReadonlySet<string>>();
function handledActions(routes: RoutingTable): ReadonlySet<string> {
  let set = handledSets.get(routes);
  if (!set) {
    set = new Set(Object.keys(routes));
    handledSets.set(routes, set);
  }
  return set;
}

interface PendingCall {
  messageId: string;
  action: string;
  timer: NodeJS.Timeout;
  resolve: (o: CallOutcome) => void;
}

/** What is known of a rejected frame: the text as received, or the parsed call. */
interface RejectedFrame {
  frame?: string;
  messageId?: string;
  action?: string;
  payload?: unknown;
}

type TokenFacts = NonNullable<InboundFact['tokens']>;

/**
 * The handler context of one call, noting the registry's facts of every id token the handler looks up (as the
 * registry held them then: billing reads them from the record, not from its own later copy of the registry).
 */
class TokenLookups {
  readonly ctx: HandlerContext;
  private seen: TokenFacts | undefined;

  constructor(base: HandlerContext) {
    this.ctx = {
      ...base,
      token: (uid) => {
        const t = base.token(uid);
        this.note(uid, t);
        return t;
      },
    };
  }

  private note(uid: string, t: TokenRecord | undefined): void {
    const seen = (this.seen ??= []);
    if (seen.some((f) => f.uid === uid)) return;
    seen.push({
      uid,
      revision: t?.revision ?? null,
      groupId: t?.groupId ?? null,
      billingAccountId: t?.billingAccountId ?? null,
    });
  }

  /** what was looked up, or undefined: nothing */
  facts(): TokenFacts | undefined {
    return this.seen;
  }
}

/**
 * Whether a call starts a transaction: OCPP 1.6 StartTransaction, or an OCPP 2.0.1 TransactionEvent `Started`.
 * Its record carries the station's registry facts (`station`): billing prices a session, and its CDR describes it,
 * with the station as the registry held it when the start was answered, not with a later copy of the compacted
 * registry topic (a station moved to another site or re-registered after the start).
 */
export function startsTransaction(protocol: OcppProtocol, action: string, payload: JsonObject): boolean {
  if (protocol === 'ocpp1.6') return action === 'StartTransaction';
  return action === 'TransactionEvent' && payload.eventType === 'Started';
}

/**
 * One station's OCPP-J connection: parses frames, validates, routes to the handler, records the call
 * (and its answer) durably before replying, answers every bad message with the CALLERROR of its version,
 * disconnects a station that keeps sending garbage, and sends CSMS-initiated calls one at a time.
 */
export class StationConnection {
  readonly connectionId = randomUUID();
  readonly connectedAt: Date;
  private readonly budget: BadMessageBudget;
  private readonly bucket: TokenBucket | null;
  private readonly clockMs: () => number;
  private pending: PendingCall | null = null;
  /** the CSMS-initiated call that timed out last: its late answer is not a bad message */
  private timedOut: string | null = null;
  /** a CSMS-initiated call holds the station's single slot (from before its frame is sent until it is settled) */
  private busy = false;
  private readonly waiting: Array<() => void> = [];
  private closed = false;
  alive = true;

  constructor(
    readonly stationId: string,
    readonly protocol: OcppProtocol,
    readonly provisional: boolean,
    private readonly ws: WebSocket,
    private readonly routes: RoutingTable,
    private readonly validator: OcppSchemaValidator,
    private readonly recorder: InboundRecorder,
    private readonly ctx: HandlerContext,
    private readonly opts: ConnectionOptions,
    private readonly logger: Logger,
    private readonly onBadMessage: (kind: string) => void,
    private readonly onCallAnswered: (
      action: string,
      outcome: 'result' | 'internal_error',
      seconds: number,
    ) => void = () => undefined,
  ) {
    this.connectedAt = ctx.now();
    this.budget = new BadMessageBudget(opts.maxBadMessages);
    this.clockMs = opts.clockMs ?? (() => performance.now());
    this.bucket = opts.rateLimit ? new TokenBucket(opts.rateLimit, this.clockMs()) : null;
  }

  onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) {
      // OCPP-J messages are UTF-8 text frames
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      this.bad(
        'binary',
        {
          messageId: '-1',
          errorCode: callErrorCode(this.protocol, 'unreadable'),
          errorDescription: 'binary frames are not OCPP-J',
        },
        { frame: `base64:${bytes.toString('base64')}` },
      );
      return;
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as ArrayBuffer).toString('utf8');
    const frame = parseFrame(this.protocol, text);
    switch (frame.kind) {
      case 'invalid':
        this.bad(frame.failure, frame.reply, { frame: text });
        return;
      case 'call':
        if (this.bucket && !this.bucket.take(this.clockMs())) {
          this.overRate(frame);
          return;
        }
        // never an unhandled rejection: the process must not crash on anything a station sends
        this.onCall(frame).catch((e) => {
          this.logger.error({ err: e, stationId: this.stationId, messageId: frame.messageId }, 'call handling failed');
          this.send(encodeCallError(frame.messageId, callErrorCode(this.protocol, 'internal'), 'internal error'));
        });
        return;
      case 'callresult':
      case 'callerror':
        this.onResponse(frame, text);
        return;
    }
  }

  /**
   * A CALL over the connection's rate: answered with a CALLERROR, recorded as `rejected` (never as a call:
   * nothing a consumer folds), and a bad message (a station that keeps flooding is disconnected). OCPP-J has no
   * code for "too many requests"; the rate limit is none of the specific failures of the table of error codes,
   * so it is `GenericError`: 1.6 "Any other error not covered by the previous ones", 2.0.1 "Any other error not
   * covered by the more specific error codes in this table". The description says why and the limit.
   */
  private overRate(frame: CallFrame): void {
    const limit = this.opts.rateLimit!;
    this.bad(
      'rateLimited',
      {
        messageId: frame.messageId,
        errorCode: callErrorCode(this.protocol, 'generic'),
        errorDescription: `rate limit exceeded: at most ${limit.perSecond} CALLs/s (burst ${limit.burst}); retry later`,
      },
      frame,
    );
  }

  private rejections = 0;

  /**
   * A frame rejected with a CALLERROR (or ignored) is recorded too, as `rejected` with what was received and
   * what was answered: not a fact a consumer folds, but the log must be able to say what a station sent and
   * why it was refused. Best effort: the CALLERROR does not wait for it (it promises nothing durable).
   */
  private recordRejected(
    reason: string,
    reply: { errorCode: CallErrorCode; errorDescription: string } | null,
    seen: RejectedFrame,
  ): void {
    const messageId =
      seen.messageId !== undefined && seen.messageId.length > 0 && seen.messageId.length <= 36
        ? seen.messageId
        : undefined;
    this.recorder
      .record(this, {
        kind: 'rejected',
        sequence: ++this.rejections,
        reason,
        ...(messageId !== undefined ? { messageId } : {}),
        ...(seen.action !== undefined && seen.action.length <= 100 ? { action: seen.action } : {}),
        ...(seen.payload !== undefined ? { payload: seen.payload } : {}),
        ...(seen.frame !== undefined ? { frame: seen.frame } : {}),
        ...(reply ? { response: [reply.errorCode, reply.errorDescription] } : {}),
      })
      .catch((e) => this.logger.warn({ err: e, stationId: this.stationId, reason }, 'rejected frame not recorded'));
  }

  private bad(
    kind: string,
    reply: { messageId: string; errorCode: CallErrorCode; errorDescription: string } | null,
    seen: RejectedFrame,
  ): void {
    this.onBadMessage(kind);
    this.recordRejected(kind, reply, seen);
    if (reply) this.send(encodeCallError(reply.messageId, reply.errorCode, reply.errorDescription));
    if (this.budget.spend()) {
      this.logger.warn(
        { stationId: this.stationId, badMessages: this.budget.spent },
        'too many bad messages: disconnecting',
      );
      this.close(CloseCodes.policyViolation, 'too many bad messages');
    }
  }

  private async onCall(frame: CallFrame): Promise<void> {
    const decision = decideRoute(
      frame.action,
      handledActions(this.routes),
      isOcppAction(this.protocol, frame.action),
      isStationAction(this.protocol, frame.action),
    );
    if (decision.route === 'notImplemented') {
      this.bad(
        'notImplemented',
        {
          messageId: frame.messageId,
          errorCode: callErrorCode(this.protocol, 'notImplemented'),
          errorDescription: `unknown action ${frame.action}`,
        },
        frame,
      );
      return;
    }
    if (decision.route === 'csmsOnly') {
      // a station sending what only the CSMS sends (e.g. Reset) is misbehaving: NotSupported, and a bad message
      this.logger.warn({ stationId: this.stationId, action: frame.action }, 'station sent a CSMS-only action');
      this.bad(
        'csmsOnlyAction',
        {
          messageId: frame.messageId,
          errorCode: callErrorCode(this.protocol, 'notSupported'),
          errorDescription: `${frame.action} is sent by the CSMS, not by a station`,
        },
        frame,
      );
      return;
    }
    if (decision.route === 'notSupported') {
      const reply = {
        errorCode: callErrorCode(this.protocol, 'notSupported'),
        errorDescription: `${frame.action} is not served by the CSMS`,
      };
      this.recordRejected('notSupported', reply, frame);
      this.send(encodeCallError(frame.messageId, reply.errorCode, reply.errorDescription));
      return;
    }
    const check = this.validator.validate(this.protocol, frame.action, 'request', frame.payload);
    if (!check.ok) {
      this.bad(
        check.failure,
        { messageId: frame.messageId, errorCode: check.errorCode, errorDescription: check.description },
        frame,
      );
      return;
    }
    let response: object;
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      // the payload was just checked against this action's request schema: the one place a frame meets its type
      const looked = new TokenLookups(this.ctx);
      response = await this.routes[frame.action].handler(frame.payload as never, looked.ctx);
      const out = this.validator.validate(this.protocol, frame.action, 'response', response);
      if (!out.ok) throw new Error(`handler produced an invalid ${frame.action} response: ${out.description}`);
      // the station as the registry holds it now (none: unknown to it, e.g. provisional)
      const station = startsTransaction(this.protocol, frame.action, frame.payload)
        ? this.ctx.station()?.answered
        : undefined;
      // the CALLRESULT means the fact is durable: it waits for the broker's acknowledgement
      await this.recorder.record(this, {
        kind: 'call',
        messageId: frame.messageId,
        action: frame.action,
        payload: frame.payload,
        response,
        tokens: looked.facts(),
        station,
      });
    } catch (e) {
      this.logger.error(
        { err: e, stationId: this.stationId, action: frame.action, messageId: frame.messageId },
        'call failed: answering InternalError',
      );
      this.send(
        encodeCallError(
          frame.messageId,
          callErrorCode(this.protocol, 'internal'),
          'the call could not be recorded; retry later',
        ),
      );
      this.onCallAnswered(frame.action, 'internal_error', seconds());
      return;
    }
    this.send(encodeCallResult(frame.messageId, response as JsonObject));
    this.onCallAnswered(frame.action, 'result', seconds());
    this.afterCall?.(frame.action, frame.payload);
  }

  /** told of every call answered (after the answer went out): e.g. connectors the station reports */
  afterCall?: (action: string, payload: JsonObject) => void;

  private onResponse(
    frame:
      | { kind: 'callresult'; messageId: string; payload: JsonObject }
      | { kind: 'callerror'; messageId: string; errorCode: string; errorDescription: string; errorDetails: JsonObject },
    text: string,
  ): void {
    const p = this.pending;
    if (!p || p.messageId !== frame.messageId) {
      if (frame.messageId === this.timedOut) {
        // the answer to the call that timed out last: late, not unsolicited
        this.timedOut = null;
        this.logger.info(
          { stationId: this.stationId, messageId: frame.messageId },
          'late answer to a call that timed out: ignored',
        );
        return;
      }
      // nothing to answer (OCPP-J: no CALLERROR to a CALLRESULT/CALLERROR), but a bad message, recorded as rejected
      this.logger.warn(
        { stationId: this.stationId, messageId: frame.messageId },
        'response to no outstanding call: ignored',
      );
      this.bad('unsolicitedResponse', null, { messageId: frame.messageId, frame: text });
      return;
    }
    this.pending = null;
    clearTimeout(p.timer);
    let outcome: CallOutcome;
    if (frame.kind === 'callresult') {
      const check = this.validator.validate(this.protocol, p.action, 'response', frame.payload);
      outcome = check.ok
        ? { status: 'accepted', payload: frame.payload }
        : { status: 'invalid_response', detail: check.description };
    } else {
      outcome = { status: 'error', errorCode: frame.errorCode, errorDescription: frame.errorDescription };
    }
    const record =
      frame.kind === 'callresult'
        ? { kind: 'callresult' as const, messageId: frame.messageId, action: p.action, payload: frame.payload }
        : {
            kind: 'callerror' as const,
            messageId: frame.messageId,
            action: p.action,
            payload: {
              errorCode: frame.errorCode,
              errorDescription: frame.errorDescription,
              errorDetails: frame.errorDetails,
            },
          };
    this.recorder
      .record(this, record)
      .catch((e) => this.logger.error({ err: e, stationId: this.stationId }, 'response not recorded'));
    p.resolve(outcome);
  }

  /**
   * Sends a CSMS-initiated CALL. At most one is outstanding per station (OCPP-J §4.1.1): a second waits for
   * the first to be answered or to time out. `beforeSend` runs once this call holds the station's slot, just
   * before the frame goes out (e.g. to check a deadline and durably record the dispatch): an outcome it
   * returns is this call's outcome and nothing is sent; if it throws, nothing is sent and the call throws.
   */
  async call<Skip = never>(
    action: string,
    payload: JsonObject,
    beforeSend?: () => Promise<Skip | null>,
  ): Promise<CallOutcome | Skip> {
    while (this.busy) await new Promise<void>((r) => this.waiting.push(r));
    if (this.closed) return { status: 'offline' };
    this.busy = true;
    try {
      if (beforeSend) {
        const skip = await beforeSend();
        if (skip !== null) return skip;
        if (this.closed) return { status: 'offline' };
      }
      const messageId = randomUUID();
      return await new Promise<CallOutcome>((resolve) => {
        const timer = setTimeout(() => {
          if (this.pending?.messageId === messageId) this.pending = null;
          this.timedOut = messageId;
          resolve({ status: 'timed_out' });
        }, this.opts.callTimeoutMs);
        this.pending = { messageId, action, timer, resolve };
        this.send(encodeCall(messageId, action, payload));
      });
    } finally {
      this.busy = false;
      this.waiting.shift()?.();
    }
  }

  send(text: string): void {
    if (this.closed) return;
    this.ws.send(text, (err) => {
      if (err) this.logger.debug({ err, stationId: this.stationId }, 'send failed');
    });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    this.ws.ping();
  }

  /** Called once the socket is closed: the outstanding call was sent and will get no answer. */
  closedWith(): void {
    this.closed = true;
    if (this.pending) {
      clearTimeout(this.pending.timer);
      this.pending.resolve({ status: 'interrupted', detail: 'the connection closed before the station answered' });
      this.pending = null;
    }
    for (const w of this.waiting.splice(0)) w();
  }
}
