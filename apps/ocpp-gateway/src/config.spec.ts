import { ConfigError } from '@csms/platform';
import { loadGatewayConfig } from './config';

describe('loadGatewayConfig: an accepted OCPP frame fits in its record', () => {
  it.each([
    ['the defaults (64 KiB frames, 1 MiB records)', {}, true],
    ['the largest frame for 1 MiB records', { OCPP_MAX_FRAME_BYTES: String(Math.floor((1048576 - 16384) / 6)) }, true],
    ['one byte more', { OCPP_MAX_FRAME_BYTES: String(Math.floor((1048576 - 16384) / 6) + 1) }, false],
    ['1 MiB frames with 1 MiB records', { OCPP_MAX_FRAME_BYTES: '1048576' }, false],
    [
      '1 MiB frames with 8 MiB records',
      { OCPP_MAX_FRAME_BYTES: '1048576', KAFKA_MAX_MESSAGE_BYTES: String(8 * 1048576) },
      true,
    ],
  ])('%s: accepted %s', (_, env, accepted) => {
    const load = () => loadGatewayConfig(env);
    if (accepted) expect(load).not.toThrow();
    else expect(load).toThrow(ConfigError);
  });

  it('names both variables', () => {
    expect(() => loadGatewayConfig({ OCPP_MAX_FRAME_BYTES: '1048576' })).toThrow(
      /OCPP_MAX_FRAME_BYTES.*KAFKA_MAX_MESSAGE_BYTES/,
    );
  });
});

describe('loadGatewayConfig: the scrypt cost of new password hashes', () => {
  it.each([
    ['the default', {}, true],
    ['1024, the least', { OCPP_PASSWORD_SCRYPT_N: '1024' }, true],
    ['2^20, the most', { OCPP_PASSWORD_SCRYPT_N: '1048576' }, true],
    ['512, below the least', { OCPP_PASSWORD_SCRYPT_N: '512' }, false],
    ['3000, not a power of two', { OCPP_PASSWORD_SCRYPT_N: '3000' }, false],
    ['2^21, above the most', { OCPP_PASSWORD_SCRYPT_N: '2097152' }, false],
  ])('%s: accepted %s', (_, env, accepted) => {
    const load = () => loadGatewayConfig(env);
    if (accepted) expect(load).not.toThrow();
    else expect(load).toThrow(/OCPP_PASSWORD_SCRYPT_N/);
  });

  it('is 16384 unless set', () => {
    expect(loadGatewayConfig({}).OCPP_PASSWORD_SCRYPT_N).toBe(16384);
  });
});
