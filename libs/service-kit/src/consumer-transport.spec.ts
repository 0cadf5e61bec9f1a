import 'reflect-metadata';
import { EventPattern, MessagePattern, type MessageHandler } from '@nestjs/microservices';
import { PATTERN_EXTRAS_METADATA } from '@nestjs/microservices/constants';
import type { ConsumerSpec, HandlerContext, MessagingRuntime } from '@csms/messaging';
import type { Envelope } from '@csms/contracts';
import {
  CHUNK_END_PATTERN,
  CHUNK_START_PATTERN,
  ConsumerController,
  ConsumerTransport,
  GIVE_UP_PATTERN,
  OnChunkEnd,
  OnChunkStart,
  OnGiveUp,
} from './consumer-transport';

/** A runtime that only records the consumers it is asked to make. */
function fakeRuntime(): { runtime: MessagingRuntime; specs: ConsumerSpec[] } {
  const specs: ConsumerSpec[] = [];
  const runtime = {
    addConsumer: (s: ConsumerSpec) => (specs.push(s), { name: s.name }),
  } as unknown as MessagingRuntime;
  return { runtime, specs };
}

@ConsumerController()
class Orders {
  @EventPattern('test.order_placed')
  placed() {}
  @OnChunkStart()
  start() {}
  @OnChunkEnd()
  end() {}
  @OnGiveUp()
  giveUp() {}
}

@ConsumerController()
class Other {
  @EventPattern('test.order_placed')
  placed() {}
}

const extrasOf = (c: { prototype: object }, m: string) =>
  Reflect.getMetadata(PATTERN_EXTRAS_METADATA, (c.prototype as Record<string, object>)[m]) as Record<string, unknown>;

/** Registers a class's pattern methods the way Nest does: `addHandler(pattern, callback, isEvent, extras)`. */
function register(t: ConsumerTransport, c: { prototype: object }, calls: string[], methods: Record<string, string>) {
  for (const [m, pattern] of Object.entries(methods)) {
    const cb = (async (data: unknown) => {
      calls.push(`${m}:${Array.isArray(data) ? data.length : (data as Envelope | undefined)?.type}`);
    }) as MessageHandler;
    t.addHandler(pattern, cb, true, extrasOf(c, m));
  }
}

describe('consumer transport: binding @EventPattern methods to consumers', () => {
  const ctx = {} as HandlerContext;
  const event = (type: string) => ({ type }) as Envelope;

  it('ties every pattern method of a @ConsumerController class to that class', () => {
    for (const m of ['placed', 'start', 'end', 'giveUp']) expect(extrasOf(Orders, m)['csms:consumer']).toBe(Orders);
    expect(extrasOf(Other, 'placed')['csms:consumer']).toBe(Other);
  });

  it('dispatches each event to the method of its type and the hooks to theirs; a type with no pattern does nothing', async () => {
    const { runtime, specs } = fakeRuntime();
    const t = new ConsumerTransport(runtime);
    const calls: string[] = [];
    register(t, Orders, calls, {
      placed: 'test.order_placed',
      start: CHUNK_START_PATTERN,
      end: CHUNK_END_PATTERN,
      giveUp: GIVE_UP_PATTERN,
    });
    register(t, Other, [], { placed: 'test.order_placed' });
    t.bind([
      { name: 'orders', topics: ['t'], catalogue: undefined as never, controller: Orders },
      { name: 'other', topics: ['t'], catalogue: undefined as never, controller: Other },
    ]);
    const [s, o] = specs;
    await s.onChunkStart!({
      manager: undefined as never,
      scratch: new Map(),
      events: [event('test.order_placed'), event('test.order_noted')],
    });
    await s.handler(event('test.order_placed'), ctx);
    await s.handler(event('test.order_noted'), ctx);
    await s.onChunkEnd!({ manager: undefined as never, scratch: new Map(), emit: () => undefined });
    await s.onGiveUp!(event('test.order_placed'), new Error('x'), ctx);
    expect(calls).toEqual(['start:2', 'placed:test.order_placed', 'end:undefined', 'giveUp:test.order_placed']);
    // a consumer whose controller declares no hooks has none: the consumer parks instead of giving up, and has no chunk hooks
    expect([o.onChunkStart, o.onChunkEnd, o.onGiveUp]).toEqual([undefined, undefined, undefined]);
  });

  it('refuses two handlers of one type in one controller, a @MessagePattern, a handler outside a @ConsumerController, and controllers no consumer names', () => {
    const t = new ConsumerTransport(fakeRuntime().runtime);
    const cb = (async () => undefined) as MessageHandler;
    t.addHandler('test.order_placed', cb, true, { 'csms:consumer': Orders });
    expect(() => t.addHandler('test.order_placed', cb, true, { 'csms:consumer': Orders })).toThrow(
      /two handlers of test.order_placed/,
    );
    expect(() => t.addHandler('test.ask', cb, false, { 'csms:consumer': Orders })).toThrow(/@MessagePattern/);
    expect(() => t.addHandler('test.order_placed', cb, true, {})).toThrow(/not in a @ConsumerController/);
    t.addHandler('test.order_placed', cb, true, { 'csms:consumer': Other });
    expect(() =>
      t.bind([{ name: 'orders', topics: ['t'], catalogue: undefined as never, controller: Orders }]),
    ).toThrow(/no consumer names Other/);
    expect(() =>
      new ConsumerTransport(fakeRuntime().runtime).bind([
        { name: 'x', topics: ['t'], catalogue: undefined as never, controller: Orders },
      ]),
    ).toThrow(/has no @EventPattern handler/);
  });

  it('refuses a consumer that skips unread a type its controller handles (skipTypes); other types may be skipped', () => {
    const cb = (async () => undefined) as MessageHandler;
    const t = new ConsumerTransport(fakeRuntime().runtime);
    t.addHandler('test.order_placed', cb, true, { 'csms:consumer': Other });
    expect(() =>
      t.bind([
        {
          name: 'o',
          topics: ['t'],
          catalogue: undefined as never,
          controller: Other,
          skipTypes: new Set(['test.order_placed']),
        },
      ]),
    ).toThrow(/Other handles test.order_placed, which its consumer skips unread/);
    const { runtime, specs } = fakeRuntime();
    const ok = new ConsumerTransport(runtime);
    ok.addHandler('test.order_placed', cb, true, { 'csms:consumer': Other });
    ok.bind([
      {
        name: 'o',
        topics: ['t'],
        catalogue: undefined as never,
        controller: Other,
        skipTypes: new Set(['test.noted']),
      },
    ]);
    expect([...specs[0].skipTypes!]).toEqual(['test.noted']);
  });

  it('a @MessagePattern method in a @ConsumerController is tied to it too (and refused when registered)', () => {
    @ConsumerController()
    class Asks {
      @MessagePattern('test.ask')
      ask() {}
    }
    expect(extrasOf(Asks, 'ask')['csms:consumer']).toBe(Asks);
  });
});
