/**
 * The raw frames reader against the real broker: records written to a topic of three partitions are read back by
 * their positions (scattered offsets, several partitions, one page), each checked against the event id recorded
 * for it; a position past the end of the log and one on another topic are `unavailable`; a wrong event id is a
 * `mismatch`; no consumer group is left behind.
 */
import { testKafka, createTestTopics, uniqueName } from '@csms/testing';
import { InboundFrameReader, ocppJ, type FrameRef } from '../src/frames';

describe('InboundFrameReader (ocpp.inbound read back by offset)', () => {
  const kafka = testKafka('frames-test');
  const topic = uniqueName('frames.ocpp-inbound');
  const groupPrefix = uniqueName('frames-test');
  const written: FrameRef[] = [];

  beforeAll(async () => {
    await createTestTopics(kafka, [topic], 3);
    const producer = kafka.producer();
    await producer.connect();
    try {
      // 60 records over 3 partitions, one at a time so each offset is known
      for (let i = 0; i < 60; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        const payload = {
          stationId: `ST-${i % 3}`,
          protocol: 'ocpp1.6',
          kind: 'call',
          messageId: `m${i}`,
          action: 'MeterValues',
          payload: {
            connectorId: 1,
            meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: `${i}` }] }],
          },
          response: {},
          receivedAt: '2026-03-01T10:00:00.000Z',
          connectionId: 'c1',
          gatewayInstance: 'gw-1',
        };
        const [meta] = await producer.send({
          topic,
          messages: [
            {
              partition: i % 3,
              key: `ST-${i % 3}`,
              value: JSON.stringify({ id, type: 'ocpp.message_received', version: 1, payload }),
            },
          ],
        });
        written.push({ eventId: id, topic, partition: meta.partition, offset: String(meta.baseOffset) });
      }
    } finally {
      await producer.disconnect();
    }
  }, 60_000);

  const reader = () =>
    new InboundFrameReader(kafka, {
      topic,
      groupPrefix,
      timeoutMs: 20_000,
      maxConcurrent: 2,
      maxWaiting: 4,
      cacheRecords: 0,
    });

  it('reads scattered records of several partitions and checks each one is the record the session used', async () => {
    const wanted = written.filter((_, i) => i % 7 === 0 || i === 59);
    const out = await reader().read(wanted);
    for (const r of wanted) {
      const got = out.get(`${r.topic}/${r.partition}/${r.offset}`);
      expect(got?.status).toBe('found');
      expect(got?.record?.recordId).toBe(r.eventId);
      const i = written.indexOf(r);
      expect(ocppJ(got?.record?.message ?? null).frame).toEqual([
        2,
        `m${i}`,
        'MeterValues',
        { connectorId: 1, meterValue: [{ timestamp: '2026-03-01T10:00:00Z', sampledValue: [{ value: `${i}` }] }] },
      ]);
    }
  }, 60_000);

  it('says what it could not give: a wrong event id, an offset past the log, another topic', async () => {
    const [a, b] = written;
    const asked = [
      { ...a, eventId: '00000000-0000-4000-8000-999999999999' },
      { ...b, offset: '100000' },
      { ...b, topic: 'some.other.topic' },
    ];
    const out = await reader().read(asked);
    expect(asked.map((r) => out.get(`${r.topic}/${r.partition}/${r.offset}`)?.status)).toEqual([
      'mismatch',
      'unavailable',
      'unavailable',
    ]);
  }, 60_000);

  it('leaves no consumer group behind', async () => {
    await reader().read(written.slice(0, 3));
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      expect(groups.filter((g) => g.groupId.startsWith(groupPrefix))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 60_000);
});
