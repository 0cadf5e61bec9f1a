/**
 * What the consumer transport adds per event: the Nest route of an `@EventPattern` method (its proxy, the
 * parameter decorators, the exception filter) against calling the same function directly, as the consumer did
 * before. No Kafka, no database: the handler does nothing, so the figure is the dispatch alone.
 *   npx tsx bench/consumer-transport.ts [events=200000]
 * Prints a human line and a JSON line.
 */
import 'reflect-metadata';
import os from 'node:os';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@csms/contracts';
import type { ConsumerSpec, EventHandler, HandlerContext, MessagingRuntime } from '@csms/messaging';
import { ConsumerController, ConsumerTransport } from '@csms/service-kit';

let seen = 0;
const body: EventHandler = async (event) => {
  if (event.type === 'bench.happened') seen++;
};

@ConsumerController()
class BenchConsumer {
  @EventPattern('bench.happened')
  happened(@Payload() event: Envelope, @Ctx() ctx: HandlerContext): Promise<void> {
    return body(event, ctx);
  }
}

@Module({ controllers: [BenchConsumer] })
class BenchModule {}

async function timed(n: number, handler: EventHandler, event: Envelope, ctx: HandlerContext): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await handler(event, ctx);
  return ((performance.now() - t0) * 1000) / n;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 200_000);
  const specs: ConsumerSpec[] = [];
  const runtime = {
    addConsumer: (s: ConsumerSpec) => (specs.push(s), { name: s.name }),
    stop: async () => undefined,
  } as unknown as MessagingRuntime;
  const app = await NestFactory.create(BenchModule, { logger: false });
  const transport = new ConsumerTransport(runtime);
  app.connectMicroservice({ strategy: transport });
  transport.bind([{ name: 'bench', topics: ['bench'], catalogue: undefined as never, controller: BenchConsumer }]);
  const routed = specs[0].handler;
  const event = {
    id: '00000000-0000-5000-8000-000000000000',
    type: 'bench.happened',
    version: 1,
    payload: {},
  } as unknown as Envelope;
  const ctx = {} as HandlerContext;
  // warm up both paths, then alternate to share the machine's noise
  await timed(20_000, body, event, ctx);
  await timed(20_000, routed, event, ctx);
  const direct: number[] = [];
  const nest: number[] = [];
  for (let round = 0; round < 5; round++) {
    direct.push(await timed(n / 5, body, event, ctx));
    nest.push(await timed(n / 5, routed, event, ctx));
  }
  await app.close();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    bench: 'consumer-transport',
    events: n,
    directMicros: Number(median(direct).toFixed(3)),
    transportMicros: Number(median(nest).toFixed(3)),
    addedMicrosPerEvent: Number((median(nest) - median(direct)).toFixed(3)),
    handled: seen,
    load: os.loadavg().map((x) => Number(x.toFixed(2))),
    machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  };
  console.log(
    `consumer transport: ${result.transportMicros} µs per event through Nest, ${result.directMicros} µs direct: +${result.addedMicrosPerEvent} µs per event`,
  );
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
