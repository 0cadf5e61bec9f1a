import {
  Catch,
  Controller,
  UseFilters,
  createParamDecorator,
  type ExceptionFilter,
  type Type as NestType,
} from '@nestjs/common';
import { EventPattern, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA, PATTERN_HANDLER_METADATA } from '@nestjs/microservices/constants';
import { isObservable, lastValueFrom } from 'rxjs';
import type { EntityManager } from 'typeorm';
import type { Envelope } from '@csms/contracts';
import type {
  ChunkEndHook,
  ChunkStartHook,
  ConsumerSpec,
  EventConsumer,
  EventHandler,
  GiveUpHandler,
  HandlerContext,
  MessagingRuntime,
} from '@csms/messaging';

/**
 * Nest-native consumers over the exactly-once consumer of `@csms/messaging`: a service declares its handlers as
 * `@EventPattern('<event type>')` methods of a `@ConsumerController()` class and names that class in one of its
 * consumers; the transport (`ConsumerTransport`, a Nest custom transport strategy) dispatches each event the
 * consumer applies to the method of its type. Nothing of the consumer changes: decoding, upcasting and
 * validation by the catalogue, the inbox row + state + outbox in one transaction (the handler gets it),
 * chunks, retries, dead letters, `onGiveUp`, the watchdog, the start-up waits, the metrics.
 */

/** Patterns of the hooks: not event types (those are dotted lower-case words), so they never meet one. */
export const CHUNK_START_PATTERN = '$chunk.start';
export const CHUNK_END_PATTERN = '$chunk.end';
export const GIVE_UP_PATTERN = '$give-up';

/** `@OnChunkStart() m(@Payload() events: Envelope[], @Ctx() ctx: ChunkStartContext)`: once per chunk transaction, before its first event (prefetch). */
export const OnChunkStart = (): MethodDecorator => EventPattern(CHUNK_START_PATTERN);
/** `@OnChunkEnd() m(@Ctx() ctx: ChunkEndContext)`: once per chunk transaction, after its last event, before the outbox append (flush). */
export const OnChunkEnd = (): MethodDecorator => EventPattern(CHUNK_END_PATTERN);
/**
 * `@OnGiveUp() m(@Payload() event: Envelope, @Ctx() ctx: GiveUpContext)`: records the failure of an event that
 * failed for good instead of parking it, in a transaction of its own (`ctx.error` is the failure); if it throws,
 * the event is parked.
 */
export const OnGiveUp = (): MethodDecorator => EventPattern(GIVE_UP_PATTERN);

export type ChunkStartContext = Parameters<ChunkStartHook>[0];
export type ChunkEndContext = Parameters<ChunkEndHook>[0];
export interface GiveUpContext extends HandlerContext {
  error: unknown;
}

/** `@Tx() manager: EntityManager`: the consumer's transaction (inbox row, state change and outbox commit in it). */
export const Tx = createParamDecorator(
  (_: unknown, ctx): EntityManager => ctx.switchToRpc().getContext<HandlerContext>().manager,
);

/** The extras key that ties a pattern method to its `@ConsumerController()` class. */
const CONSUMER_EXTRA = 'csms:consumer';

/**
 * Errors go back to the consumer as they were thrown: it decides between retrying and parking by the error
 * itself (`retriable`, `code`, PostgreSQL and kafkajs classes). Nest's default RPC filter would turn them into
 * `{ status: 'error', message: 'Internal server error' }`.
 */
@Catch()
class RethrowToConsumer implements ExceptionFilter {
  catch(exception: unknown): never {
    throw exception;
  }
}

/**
 * Marks a class as the handlers of one consumer: a Nest controller (constructor injection, guards, pipes,
 * interceptors as usual) whose `@EventPattern` methods are bound to the consumer that names the class
 * (`ConsumerDeclaration.controller`). Errors thrown by its methods reach the consumer unchanged.
 */
export function ConsumerController(): ClassDecorator {
  return (target) => {
    Controller()(target);
    UseFilters(new RethrowToConsumer())(target);
    const proto = target.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = Object.getOwnPropertyDescriptor(proto, name)?.value as object | undefined;
      if (typeof fn !== 'function' || Reflect.getMetadata(PATTERN_HANDLER_METADATA, fn) === undefined) continue;
      Reflect.defineMetadata(
        PATTERN_EXTRAS_METADATA,
        { ...Reflect.getMetadata(PATTERN_EXTRAS_METADATA, fn), [CONSUMER_EXTRA]: target },
        fn,
      );
    }
  };
}

/** A consumer of a service: its options, and the `@ConsumerController()` class that handles its events. */
export type ConsumerDeclaration = Omit<ConsumerSpec, 'handler' | 'onChunkStart' | 'onChunkEnd' | 'onGiveUp'> & {
  controller: NestType;
};

type Bound = Pick<ConsumerSpec, 'handler' | 'onChunkStart' | 'onChunkEnd' | 'onGiveUp'>;

/** A Nest handler's result: a value, or an Observable (an interceptor may return one) that is run to its end. */
async function settled(result: unknown): Promise<void> {
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
}

/**
 * The custom transport strategy (`app.connectMicroservice({ strategy })`): Nest registers the pattern methods of
 * every `@ConsumerController()` here; `bind` makes a consumer of the runtime for each declaration, whose handler
 * dispatches by event type to those methods; `listen` starts the runtime (topics, group coordinators, producer,
 * outbox relay, consumers in their order), `close` stops it gracefully.
 *
 * An event of a type the catalogue does not know never gets here (parked by the consumer, as a contract
 * violation); one of a known type that the controller declares no pattern for is applied with no effect (its
 * inbox row is written, its offset moves on), as a handler that ignores other types did before.
 */
export class ConsumerTransport extends Server implements CustomTransportStrategy {
  private readonly byController = new Map<object, Map<string, MessageHandler>>();
  private readonly claimed = new Set<object>();
  private stopped = false;

  constructor(private readonly runtime: MessagingRuntime) {
    super();
  }

  override addHandler(
    pattern: unknown,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const route = this.normalizePattern(pattern as string);
    const controller = extras[CONSUMER_EXTRA] as { name: string } | undefined;
    if (!controller)
      throw new Error(`the handler of ${route} is not in a @ConsumerController() class: no consumer to bind it to`);
    if (!isEventHandler)
      throw new Error(
        `${controller.name}: ${route} is a @MessagePattern; consumers take events (@EventPattern), they answer nothing`,
      );
    let table = this.byController.get(controller);
    if (!table) this.byController.set(controller, (table = new Map()));
    if (table.has(route)) throw new Error(`${controller.name} has two handlers of ${route}: one per event type`);
    callback.isEventHandler = true;
    callback.extras = extras;
    table.set(route, callback);
    this.messageHandlers.set(`${controller.name}:${route}`, callback);
  }

  /** Makes the runtime's consumers, each dispatching to the methods of its controller. Call after Nest registered them (connectMicroservice). */
  bind(declarations: readonly ConsumerDeclaration[]): EventConsumer[] {
    const consumers = declarations.map(({ controller, ...spec }) => {
      const bound = this.handlersOf(controller);
      const handled = [...(spec.skipTypes ?? [])].filter((t) => this.byController.get(controller)?.has(t));
      if (handled.length > 0)
        throw new Error(
          `${controller.name} handles ${handled.join(', ')}, which its consumer skips unread (skipTypes)`,
        );
      return this.runtime.addConsumer({ ...spec, ...bound });
    });
    const unclaimed = [...this.byController.keys()].filter((c) => !this.claimed.has(c));
    if (unclaimed.length > 0)
      throw new Error(`no consumer names ${unclaimed.map((c) => (c as { name: string }).name).join(', ')}`);
    return consumers;
  }

  private handlersOf(controller: NestType): Bound {
    const table = this.byController.get(controller);
    if (!table)
      throw new Error(`${controller.name} has no @EventPattern handler (is it a @ConsumerController() listed once?)`);
    if (this.claimed.has(controller)) throw new Error(`${controller.name} is named by two consumers`);
    this.claimed.add(controller);
    const start = table.get(CHUNK_START_PATTERN);
    const end = table.get(CHUNK_END_PATTERN);
    const giveUp = table.get(GIVE_UP_PATTERN);
    const handler: EventHandler = async (event, ctx) => {
      const h = table.get(event.type);
      if (h) await settled(await h(event, ctx));
    };
    return {
      handler,
      ...(start ? { onChunkStart: async (ctx) => settled(await start(ctx.events, ctx)) } : {}),
      ...(end ? { onChunkEnd: async (ctx) => settled(await end(undefined, ctx)) } : {}),
      ...(giveUp
        ? {
            onGiveUp: (async (event: Envelope, error: unknown, ctx: HandlerContext) =>
              settled(await giveUp(event, giveUpContext(ctx, error)))) satisfies GiveUpHandler,
          }
        : {}),
    } as Bound;
  }

  listen(callback: (err?: unknown) => void): void {
    this.runtime.start().then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  /** Graceful: consumers finish and commit the batch in hand, the relay finishes its round, the producer disconnects. Once. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.runtime.stop();
  }

  on(): void {
    throw new Error('ConsumerTransport has no events to listen to: see the runtime health()');
  }

  unwrap<T>(): T {
    return this.runtime as T;
  }
}

/** The handler context with the failure (its lazy logger stays lazy). */
function giveUpContext(ctx: HandlerContext, error: unknown): GiveUpContext {
  return Object.create(ctx, { error: { value: error, enumerable: true } }) as GiveUpContext;
}
