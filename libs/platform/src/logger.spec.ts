import { Writable } from 'stream';
import { createLogger } from './logger';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

/** A failed query as TypeORM throws it: the SQL, its parameters and the driver's error. */
class QueryFailedLike extends Error {
  constructor(
    readonly query: string,
    readonly parameters: unknown[],
    readonly driverError: { code: string; parameters?: unknown[] },
  ) {
    super('duplicate key value violates unique constraint "stations_pkey"');
  }
}

describe('createLogger: secrets never reach a log line', () => {
  it('drops the SQL parameters of a failed query, keeps the query and the error', () => {
    const { lines, stream } = capture();
    const hash = 'scrypt$16384$8$1$c2FsdA$aGFzaGhhc2hoYXNo';
    createLogger('test', 'info', stream).error(
      {
        err: new QueryFailedLike('insert into stations values ($1, $2)', ['CP-1', hash], {
          code: '23505',
          parameters: ['CP-1', hash],
        }),
      },
      'station write failed',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(hash);
    const j = JSON.parse(lines[0]);
    expect(j.err.parameters).toBe('[redacted]');
    expect(j.err.driverError.parameters).toBe('[redacted]');
    expect(j.err.query).toBe('insert into stations values ($1, $2)');
    expect(j.err.message).toContain('duplicate key');
  });

  it('drops passwords and authorization headers at the top level and one level down', () => {
    const { lines, stream } = capture();
    createLogger('test', 'info', stream).info(
      { password: 'p1-secret', station: { password: 'p2-secret' }, headers: { authorization: 'Bearer k-secret' } },
      'x',
    );
    expect(lines[0]).not.toMatch(/p1-secret|p2-secret|k-secret/);
    expect(JSON.parse(lines[0]).station.password).toBe('[redacted]');
  });
});
