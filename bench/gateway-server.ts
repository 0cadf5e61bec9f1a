/**
 * Child process of bench/gateway.ts: runs either the OCPP gateway (BENCH_MODE=gateway) or the baseline,
 * a bare ocpp-rpc server validating the same messages against the same official schemas without Kafka
 * (BENCH_MODE=baseline). Reports its port and, on request, its RSS over IPC.
 */
import { RPCServer } from 'ocpp-rpc';
import { createLogger } from '@csms/platform';
import { loadGatewayConfig } from '../apps/ocpp-gateway/src/config';
import { GatewayRuntime } from '../apps/ocpp-gateway/src/runtime';

const send = (m: unknown) => process.send!(m);

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

async function main(): Promise<void> {
  let stop: () => Promise<void>;
  if (process.env.BENCH_MODE === 'baseline') {
    const server = new RPCServer({ protocols: ['ocpp1.6', 'ocpp2.0.1'], strictMode: true } as never);
    const now = () => new Date().toISOString();
    server.on('client', (client: { handle: (m: string, h: (a: unknown) => unknown) => void }) => {
      client.handle('BootNotification', () => ({ status: 'Accepted', currentTime: now(), interval: 300 }));
      client.handle('Heartbeat', () => ({ currentTime: now() }));
      client.handle('MeterValues', () => ({}));
    });
    const http = await server.listen(0, '127.0.0.1');
    send({ ready: true, url: `ws://127.0.0.1:${(http.address() as { port: number }).port}/ocpp` });
    stop = () => server.close({ force: true } as never).then(() => undefined);
  } else {
    const config = loadGatewayConfig(process.env);
    const rt = await GatewayRuntime.start(config, createLogger('ocpp-gateway-bench', 'warn'));
    send({ ready: true, url: `ws://127.0.0.1:${rt.server.ports.ws}/ocpp` });
    stop = () => rt.stop();
  }
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'rss') send({ rss: rss() });
    if (m.cmd === 'stop') {
      await stop().catch(() => undefined);
      send({ stopped: true });
      process.exit(0);
    }
  });
  send({ rss: rss(), initial: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
