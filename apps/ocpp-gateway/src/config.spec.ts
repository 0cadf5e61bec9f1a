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
