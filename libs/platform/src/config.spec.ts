import { Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, brokersOf, loadConfig } from './config';

const Schema = Type.Object({
  ...CommonConfig,
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://' }),
  HTTP_PORT: Type.Integer({ default: 3000, minimum: 1, maximum: 65535 }),
  API_KEY_PEPPER: Type.String({ minLength: 16 }),
});

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const c = loadConfig(Schema, {
      DATABASE_URL: 'postgres://x/y',
      API_KEY_PEPPER: '0123456789abcdef',
      HTTP_PORT: '8080',
    });
    expect(c).toEqual({
      KAFKA_BROKERS: '127.0.0.1:9092',
      KAFKA_PARTITIONS: 3,
      KAFKA_MAX_MESSAGE_BYTES: 1048576,
      DOCS_REQUIRE_KEY: false,
      OUTBOX_IDLE_POLL_MS: 2000,
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgres://x/y',
      HTTP_PORT: 8080,
      API_KEY_PEPPER: '0123456789abcdef',
    });
  });

  it('fails fast naming every variable that is wrong or missing', () => {
    let err: unknown;
    try {
      loadConfig(Schema, { DATABASE_URL: 'mysql://x', HTTP_PORT: 'eighty', KAFKA_BROKERS: 'localhost' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join('\n');
    expect(problems).toMatch(/API_KEY_PEPPER: must have required property/);
    expect(problems).toMatch(/DATABASE_URL: must match pattern .* \(got "mysql:\/\/x"\)/);
    expect(problems).toMatch(/HTTP_PORT: must be integer \(got "eighty"\)/);
    expect(problems).toMatch(/KAFKA_BROKERS: must match pattern/);
  });

  it('treats an empty variable as unset', () => {
    expect(
      loadConfig(Schema, { DATABASE_URL: 'postgres://x/y', API_KEY_PEPPER: '0123456789abcdef', HTTP_PORT: '' })
        .HTTP_PORT,
    ).toBe(3000);
  });
});

describe('brokersOf', () => {
  it('splits and trims a broker list', () => {
    expect(brokersOf('a:1, b:2,')).toEqual(['a:1', 'b:2']);
  });
});
