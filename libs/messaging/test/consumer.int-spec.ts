import { CsmsError, type Envelope } from '@csms/contracts';
import { DLQ_HEADERS, EventConsumer, deadLetterId, openDeadLetterCounts, type EventHandler } from '@csms/messaging';
import { TopicCollector, uniqueName, waitFor } from '@csms/testing';
import {
  messagingSuite,
  appliedCount,
  applyTotals,
  counterEvents,
  counterTopic,
  startCounterConsumer,
  totals,
} from './fixture';

describe('event consumer: inbox, retries and dead-letter parking (real Kafka, real PostgreSQL)', () => {
  const suite = messagingSuite('consumer');
  const { cleanups } = suite;

  const setup = () => counterTopic(suite);
  const startConsumer = (
    topic: string,
    catalogue: ReturnType<typeof counterEvents>['catalogue'],
    name: string,
    handler: EventHandler = applyTotals,
    extra: Partial<ConstructorParameters<typeof EventConsumer>[0]> = {},
  ) => startCounterConsumer(suite, topic, catalogue, name, handler, extra);

  it('a redelivered event (crash after the commit, before the offset commit) changes state once', async () => {
    const { topic, catalogue, make, send } = await setup();
    const events = Array.from({ length: 10 }, (_, i) => make('a', i + 1));
    await send(...events);
    const group = uniqueName('redelivery');
    const first = await startConsumer(topic, catalogue, group);
    await waitFor(() => first.consumer.stats().applied === 10, { what: '10 applied' });
    await first.stop();

    // as if the offsets had never been committed: the whole topic comes again
    const admin = suite.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: group, topic, earliest: true });
    await admin.disconnect();

    const second = await startConsumer(topic, catalogue, group);
    await waitFor(() => second.consumer.stats().duplicates === 10, { what: '10 duplicates dropped' });
    expect(second.consumer.stats().applied).toBe(0);
    expect(await totals(suite.db.dataSource)).toEqual({ a: { count: 10, sum: 55 } });
    expect(await appliedCount(suite.db.dataSource)).toBe(10);
  });

  it('the inbox row and the state change commit or roll back together', async () => {
    const { topic, catalogue, make, send } = await setup();
    let flakyFailures = 0;
    const handler: EventHandler = async (event, ctx) => {
      await applyTotals(event, ctx); // state written first...
      const n = (event.payload as { n: number }).n;
      if (n === 3) throw new CsmsError('INVARIANT_BROKEN', 'event 3 breaks an invariant', { retriable: false }); // ...then rolled back
      if (n === 5 && flakyFailures < 2) {
        flakyFailures++;
        throw new CsmsError('DB_BUSY', 'transient', { retriable: true });
      }
    };
    const events = Array.from({ length: 6 }, (_, i) => make('b', i + 1));
    await send(...events);
    const { consumer } = await startConsumer(topic, catalogue, uniqueName('atomic'), handler);
    await waitFor(() => consumer.stats().applied === 5 && consumer.stats().parked === 1, {
      what: '5 applied and 1 parked',
    });

    // event 3: neither its state change nor its inbox row exists
    const inbox: Array<{ event_id: string }> = await suite.db.dataSource.query(
      'select event_id from inbox order by "offset"',
    );
    expect(inbox.map((r) => r.event_id)).toEqual(
      [events[0], events[1], events[3], events[4], events[5]].map((e) => e.id),
    );
    const applied: Array<{ n: number }> = await suite.db.dataSource.query('select n from applied_log order by seq');
    expect(applied.map((r) => r.n)).toEqual([1, 2, 4, 5, 6]);
    expect(await totals(suite.db.dataSource)).toEqual({ b: { count: 5, sum: 18 } });
    // event 5 failed twice (retriable), then applied once
    expect(flakyFailures).toBe(2);
    expect(consumer.stats().retries).toBeGreaterThanOrEqual(2);
  });

  it('parks malformed, unknown-type and unknown-version events on the dead-letter topic with their error, and goes on', async () => {
    const { topic, catalogue, make, send } = await setup();
    const good1 = make('c', 1);
    const good2 = make('c', 2);
    const newer = { ...make('c', 99), version: 2 };
    const unknown = { ...make('c', 98), type: 'test.something_else' };
    const badPayload = { ...make('c', 97), payload: { key: 'c', n: -1 } };
    await send(good1);
    await suite.publisher.publish([{ topic, key: 'c', value: '{"this is": not json' }]);
    await send(newer, unknown, badPayload, good2);

    const group = uniqueName('dlq');
    const { consumer } = await startConsumer(topic, catalogue, group);
    await waitFor(() => consumer.stats().applied === 2 && consumer.stats().parked === 4, {
      what: '2 applied, 4 parked',
    });
    expect(await totals(suite.db.dataSource)).toEqual({ c: { count: 2, sum: 3 } });

    const collector = await new TopicCollector(suite.kafka, [consumer.deadLetterTopic]).start();
    cleanups.push(() => collector.close());
    await waitFor(() => collector.records.length === 4, { what: 'four dead letters' });
    const parked = collector.records.map((r) => ({
      code: r.headers[DLQ_HEADERS.code],
      offset: r.headers[DLQ_HEADERS.offset],
      key: r.key,
      value: r.value,
    }));
    expect(parked).toEqual([
      { code: 'MALFORMED_JSON', offset: '1', key: 'c', value: '{"this is": not json' },
      { code: 'UNKNOWN_EVENT_VERSION', offset: '2', key: 'c', value: JSON.stringify(newer) },
      { code: 'UNKNOWN_EVENT_TYPE', offset: '3', key: 'c', value: JSON.stringify(unknown) },
      { code: 'INVALID_PAYLOAD', offset: '4', key: 'c', value: JSON.stringify(badPayload) },
    ]);
    for (const r of collector.records) {
      expect(r.headers[DLQ_HEADERS.topic]).toBe(topic);
      expect(r.headers[DLQ_HEADERS.group]).toBe(group);
      expect(r.headers[DLQ_HEADERS.message].length).toBeGreaterThan(5);
    }
    // and in dead_letters, with the event id and type where the record says them
    const rows: Array<{
      id: string;
      offset: string;
      error_code: string;
      event_id: string | null;
      event_type: string | null;
      status: string;
      value: Buffer;
    }> = await suite.db.dataSource.query(
      'select id, "offset"::text as "offset", error_code, event_id, event_type, status, value from dead_letters where consumer = $1 order by seq',
      [group],
    );
    expect(
      rows.map((r) => [r.offset, r.error_code, r.event_id, r.event_type, r.status, r.value.toString('utf8')]),
    ).toEqual([
      ['1', 'MALFORMED_JSON', null, null, 'parked', '{"this is": not json'],
      ['2', 'UNKNOWN_EVENT_VERSION', newer.id, newer.type, 'parked', JSON.stringify(newer)],
      ['3', 'UNKNOWN_EVENT_TYPE', unknown.id, 'test.something_else', 'parked', JSON.stringify(unknown)],
      ['4', 'INVALID_PAYLOAD', badPayload.id, badPayload.type, 'parked', JSON.stringify(badPayload)],
    ]);
    expect(rows[0].id).toBe(deadLetterId(group, { topic, partition: 0, offset: '1' }));
    expect(await openDeadLetterCounts(suite.db.dataSource, [group, 'another-group'])).toEqual({
      [group]: 4,
      'another-group': 0,
    });
  });

  it('passes over records of the types it skips (by their event-type header) unread, and still parks what it reads', async () => {
    const { topic, catalogue, make, send } = await setup();
    const good1 = make('s', 1);
    const good2 = make('s', 2);
    await send(good1);
    // skipped before any parsing: not even JSON, no inbox row, no dead letter
    await suite.publisher.publish([
      { topic, key: 's', value: '{"not": json', headers: { 'event-type': 'test.ignored' } },
      { topic, key: 's', value: '{"not": json', headers: { 'event-type': 'test.ignored' } },
    ]);
    // another type in the header: read, and parked as before
    await suite.publisher.publish([
      { topic, key: 's', value: '{"not": json', headers: { 'event-type': 'test.counter_incremented' } },
    ]);
    await send(good2);
    await suite.publisher.publish([
      { topic, key: 's', value: '{"not": json', headers: { 'event-type': 'test.ignored' } },
    ]);

    const group = uniqueName('skip');
    const { consumer } = await startConsumer(topic, catalogue, group, applyTotals, {
      skipTypes: new Set(['test.ignored']),
    });
    await waitFor(() => consumer.stats().applied === 2 && consumer.stats().parked === 1, {
      what: '2 applied, 1 parked',
    });
    await consumer.caughtUp(30_000); // the skipped last record's offset is committed too
    expect(consumer.stats().skipped).toBe(3);
    expect(await totals(suite.db.dataSource)).toEqual({ s: { count: 2, sum: 3 } });
    const inbox: Array<{ event_id: string }> = await suite.db.dataSource.query(
      'select event_id from inbox where consumer = $1 order by "offset"',
      [group],
    );
    expect(inbox.map((r) => r.event_id)).toEqual([good1.id, good2.id]);
    const rows: Array<{ offset: string; error_code: string }> = await suite.db.dataSource.query(
      'select "offset"::text as "offset", error_code from dead_letters where consumer = $1 order by seq',
      [group],
    );
    expect(rows).toEqual([{ offset: '3', error_code: 'MALFORMED_JSON' }]);
  });

  it('parks an event whose handler keeps failing with an unclassified error after maxAttempts, and goes on', async () => {
    const { topic, catalogue, make, send } = await setup();
    let attempts = 0;
    const handler: EventHandler = async (event, ctx) => {
      if ((event.payload as { n: number }).n === 1) {
        attempts++;
        throw new Error('something unexpected');
      }
      await applyTotals(event, ctx);
    };
    await send(make('d', 1), make('d', 2));
    const { consumer } = await startConsumer(topic, catalogue, uniqueName('poison'), handler);
    await waitFor(() => consumer.stats().parked === 1 && consumer.stats().applied === 1, {
      what: 'poison parked, next applied',
    });
    // once in the chunk transaction, then maxAttempts (3) on its own
    expect(attempts).toBe(4);
    expect(await totals(suite.db.dataSource)).toEqual({ d: { count: 1, sum: 2 } });
  });

  it('with onGiveUp, records the failure of an event that keeps failing instead of parking it; parks it if that fails too', async () => {
    const { topic, catalogue, make, send } = await setup();
    const failing: EventHandler = async (event, ctx) => {
      if ((event.payload as { n: number }).n < 3) throw new CsmsError('BROKEN_INPUT', 'no way', { retriable: false });
      await applyTotals(event, ctx);
    };
    // the give-up handler counts the failure as a total of its own key, in the inbox transaction; it fails for n = 2
    const onGiveUp = async (event: Envelope, error: unknown, ctx: Parameters<EventHandler>[1]) => {
      const { n } = event.payload as { n: number };
      if (n === 2) throw new Error('cannot record it either');
      await ctx.manager.query('insert into totals (key, count, sum) values ($1, 1, $2)', [
        `failed:${(error as CsmsError).code}`,
        n,
      ]);
    };
    await send(make('g', 1), make('g', 2), make('g', 3));
    const name = uniqueName('giveup');
    const { consumer } = await startConsumer(topic, catalogue, name, failing, { onGiveUp });
    await waitFor(
      () => consumer.stats().applied === 1 && consumer.stats().givenUp === 1 && consumer.stats().parked === 1,
      { what: '1 applied, 1 given up, 1 parked' },
    );
    expect(await totals(suite.db.dataSource)).toEqual({
      g: { count: 1, sum: 3 },
      'failed:BROKEN_INPUT': { count: 1, sum: 1 },
    });
    const parked = await new TopicCollector(suite.kafka, [consumer.deadLetterTopic]).start();
    cleanups.push(() => parked.close());
    const record = await waitFor(() => parked.records[0], { what: 'the parked event' });
    expect(JSON.parse(record.value!).payload).toEqual({ key: 'g', n: 2 });
    // the given-up event has its inbox row (redelivered, it changes nothing); the parked one has none
    const inbox: Array<{ n: number }> = await suite.db.dataSource.query(
      'select count(*)::int as n from inbox where consumer = $1',
      [name],
    );
    expect(inbox[0].n).toBe(2);
  });

  it('stops gracefully: the batch in hand commits, and a new instance goes on from there', async () => {
    const { topic, catalogue, make, send } = await setup();
    await send(...Array.from({ length: 50 }, (_, i) => make('e', i + 1)));
    const group = uniqueName('graceful');
    const first = await startConsumer(topic, catalogue, group);
    await waitFor(() => first.consumer.stats().applied > 0, { what: 'some applied' });
    await first.stop();
    const appliedByFirst = first.consumer.stats().applied;
    await send(...Array.from({ length: 10 }, (_, i) => make('e', i + 51)));
    const second = await startConsumer(topic, catalogue, group);
    await waitFor(async () => (await appliedCount(suite.db.dataSource)) === 60, { what: 'all 60 applied' });
    // committed offsets were honoured: nothing the first instance applied came again
    expect(second.consumer.stats().duplicates).toBe(0);
    expect(second.consumer.stats().applied).toBe(60 - appliedByFirst);
    expect(await totals(suite.db.dataSource)).toEqual({ e: { count: 60, sum: 1830 } });
  });

  it('the watchdog restarts a consumer that has gone silent, and consumption goes on', async () => {
    const { topic, catalogue, make, send } = await setup();
    let skewMs = 0;
    const { consumer } = await startConsumer(topic, catalogue, uniqueName('watchdog'), applyTotals, {
      stallTimeoutMs: 2000,
      now: () => Date.now() + skewMs,
    });
    await send(make('f', 1));
    await waitFor(() => consumer.stats().applied === 1, { what: 'first event applied' });
    expect(consumer.stats().restarts).toBe(0);
    // as if no fetch, heartbeat or batch had happened for a minute
    skewMs = 60_000;
    await waitFor(() => consumer.stats().restarts === 1, { what: 'the watchdog to restart the consumer' });
    await waitFor(() => consumer.health().ok, { what: 'the restarted consumer to be healthy' });
    await send(make('f', 2));
    await waitFor(() => consumer.stats().applied === 2, { what: 'the restarted consumer to apply the next event' });
    expect(await totals(suite.db.dataSource)).toEqual({ f: { count: 2, sum: 3 } });
  });
});
