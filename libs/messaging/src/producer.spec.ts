import type { Kafka } from 'kafkajs';
import { KafkaRecordPublisher } from './producer';

/** kafkajs stand-in: every producer() is a new fake whose sends follow `script` (true = acknowledged). */
function fakeKafka(script: boolean[]) {
  const producers: Array<{ id: number; sent: number; disconnected: boolean }> = [];
  const kafka = {
    producer: () => {
      const p = { id: producers.length + 1, sent: 0, disconnected: false };
      producers.push(p);
      return {
        connect: async () => undefined,
        disconnect: async () => {
          p.disconnected = true;
        },
        sendBatch: async () => {
          p.sent += 1;
          if (!script.shift()) throw new Error('KafkaJSNumberOfRetriesExceeded');
          return [];
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, producers };
}

const rec = { topic: 't', key: 'k', value: 'v' };

describe('KafkaRecordPublisher', () => {
  it('replaces the producer after a failed send: its sequence numbers are in doubt (an acked batch could be dropped as a duplicate)', async () => {
    const { kafka, producers } = fakeKafka([true, false, true, true]);
    const p = new KafkaRecordPublisher(kafka);
    await p.publish([rec]);
    await expect(p.publish([rec])).rejects.toThrow('KafkaJSNumberOfRetriesExceeded');
    expect(producers).toHaveLength(1);
    await p.publish([rec]);
    await p.publish([rec]);
    expect(producers.map((x) => [x.id, x.sent])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(producers[0].disconnected).toBe(true);
    expect(p.renewals).toBe(1);
  });

  it('keeps a producer that never failed', async () => {
    const { kafka, producers } = fakeKafka([true, true, true]);
    const p = new KafkaRecordPublisher(kafka);
    for (let i = 0; i < 3; i++) await p.publish([rec]);
    expect(producers).toHaveLength(1);
    expect(p.renewals).toBe(0);
  });
});
