/**
 * Child process of bench/gateway.ts: runs either the OCPP gateway (BENCH_MODE=gateway) or the baseline,
 * a bare ocpp-rpc server validating the same messages against the same official schemas without Kafka
 * (BENCH_MODE=baseline). Reports its port and, on request, its RSS over IPC. With GATEWAY_WORKERS > 1 the gateway
 * runs as the app does (apps/ocpp-gateway/src/cluster.ts): this process is the node:cluster primary and each
 * worker a gateway instance on the shared port; the RSS reported is the sum of the primary's and the workers'.
 * `register` (BENCH_PASSWORDS) registers security-profile-1 stations through the registry service the REST API
 * uses (a password each, hashed with scrypt) and answers once every worker's registry knows them all; `stats`
 * answers the upgrade counters (password checks answered from memory / by scrypt, refusals by status).
 */
import cluster, { type Worker } from 'node:cluster';

// loaded where they are used, so that a cluster primary (which only hands connections over) stays small
const gatewayModules = async () => ({
  ...(await import('@csms/platform')),
  ...(await import('../apps/ocpp-gateway/src/config')),
  ...(await import('../apps/ocpp-gateway/src/runtime')),
  ...(await import('../apps/ocpp-gateway/src/cluster')),
});

type Runtime = Awaited<ReturnType<Awaited<ReturnType<typeof gatewayModules>>['GatewayRuntime']['start']>>;

/** Counters of the upgrade path (the gateway's metrics hooks), summed over the workers by the primary. */
const stats = { passwordHit: 0, passwordMiss: 0, authFailed: 0, refused: {} as Record<string, number> };
const counting = {
  connections: () => undefined,
  badMessage: () => undefined,
  callAnswered: () => undefined,
  pendingUpgrades: () => undefined,
  authThrottled: () => undefined,
  refused: (status: number) => void (stats.refused[status] = (stats.refused[status] ?? 0) + 1),
  authFailed: () => void stats.authFailed++,
  passwordCheck: (r: 'hit' | 'miss') => void (r === 'hit' ? stats.passwordHit++ : stats.passwordMiss++),
};

/** Registers the stations (profile 1, the password the load generator uses), 16 at a time. */
async function register(rt: Runtime, ids: string[]): Promise<void> {
  const { benchPassword } = await import('./gateway-password');
  const { hashPassword } = await import('../apps/ocpp-gateway/src/registry/password');
  // BENCH_SCRYPT_N: a cheaper scrypt for the stored hashes, so that thousands of stations are set up in minutes
  // (registration and each station's first connection cost one scrypt each); the storm is answered from memory
  const n = process.env.BENCH_SCRYPT_N ? Number(process.env.BENCH_SCRYPT_N) : undefined;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        await rt.registry.putStation(
          id,
          { securityProfile: 1, password: benchPassword(id) },
          { keyName: 'bench', role: 'admin' },
          (pw) => hashPassword(pw, n),
        );
      }
    }),
  );
}

/** Resolves once this instance's registry (fed by the compacted topic) holds every station. */
async function knows(rt: Runtime, ids: string[]): Promise<void> {
  while (!ids.every((id) => rt.registryCache.station(id))) await new Promise((r) => setTimeout(r, 200));
}

const send = (m: unknown) => process.send!(m);

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

/** A worker of the clustered gateway: answers the primary's rss/stop requests. */
async function worker(): Promise<void> {
  const { loadGatewayConfig, GatewayRuntime, createLogger } = await gatewayModules();
  const config = loadGatewayConfig(process.env);
  const rt = await GatewayRuntime.start(config, createLogger('ocpp-gateway-bench', 'warn'), { metrics: counting });
  process.on('message', async (m: { cmd: string; ids: string[] }) => {
    if (m.cmd === 'rss') send({ rss: rss() });
    if (m.cmd === 'stats') send({ stats });
    if (m.cmd === 'register') {
      await register(rt, m.ids);
      send({ registered: m.ids.length });
    }
    if (m.cmd === 'knows') {
      await knows(rt, m.ids);
      send({ knows: true });
    }
    if (m.cmd === 'stop') {
      await rt.stop().catch(() => undefined);
      send({ stopped: true });
      process.exit(0);
    }
  });
  send({ ready: true, url: `ws://127.0.0.1:${rt.server.ports.ws}/ocpp` });
}

/** The primary of the clustered gateway: worker 0 first (it migrates the database), then the others. */
async function primary(workers: number): Promise<void> {
  const { passwordMemoSharing } = await import('../apps/ocpp-gateway/src/cluster');
  const memo = passwordMemoSharing();
  const base = process.env.GATEWAY_INSTANCE ?? `bench-${process.pid}`;
  const ws: Worker[] = [];
  const ask = <T>(w: Worker, cmd: string | Record<string, unknown>, key: string) =>
    new Promise<T>((resolve) => {
      const on = (m: Record<string, unknown>) => {
        if (m[key] !== undefined) {
          w.off('message', on);
          resolve(m as T);
        }
      };
      w.on('message', on);
      if (cmd) w.send(typeof cmd === 'string' ? { cmd } : cmd);
    });
  const start = (slot: number) => {
    const w = cluster.fork({ GATEWAY_INSTANCE: `${base}-w${slot}`, ...memo.env });
    ws.push(w);
    memo.relay(w, () => ws);
    return ask<{ url: string }>(w, '', 'ready');
  };
  const { url } = await start(0);
  await Promise.all(Array.from({ length: workers - 1 }, (_, i) => start(i + 1)));
  process.on('message', async (m: { cmd: string; ids: string[] }) => {
    if (m.cmd === 'register') {
      await ask(ws[0], m, 'registered');
      await Promise.all(ws.map((w) => ask(w, { cmd: 'knows', ids: m.ids }, 'knows')));
      send({ registered: m.ids.length });
    }
    if (m.cmd === 'stats') {
      const parts = await Promise.all(ws.map((w) => ask<{ stats: typeof stats }>(w, 'stats', 'stats')));
      const sum = { passwordHit: 0, passwordMiss: 0, authFailed: 0, refused: {} as Record<string, number> };
      for (const { stats: p } of parts) {
        sum.passwordHit += p.passwordHit;
        sum.passwordMiss += p.passwordMiss;
        sum.authFailed += p.authFailed;
        for (const [k, v] of Object.entries(p.refused)) sum.refused[k] = (sum.refused[k] ?? 0) + v;
      }
      send({ stats: sum });
    }
    if (m.cmd === 'rss') {
      const parts = await Promise.all(ws.map((w) => ask<{ rss: number }>(w, 'rss', 'rss')));
      send({ rss: rss() + parts.reduce((n, p) => n + p.rss, 0), workers: parts.map((p) => p.rss) });
    }
    if (m.cmd === 'stop') {
      await Promise.all(ws.map((w) => ask(w, 'stop', 'stopped')));
      send({ stopped: true });
      process.exit(0);
    }
  });
  send({ rss: rss(), initial: true });
  send({ ready: true, url });
}

async function main(): Promise<void> {
  const workers = Number(process.env.GATEWAY_WORKERS ?? 1);
  if (process.env.BENCH_MODE !== 'baseline' && workers > 1) return cluster.isPrimary ? primary(workers) : worker();
  let stop: () => Promise<void>;
  if (process.env.BENCH_MODE === 'baseline') {
    const { RPCServer } = await import('ocpp-rpc');
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
    const { loadGatewayConfig, GatewayRuntime, createLogger } = await gatewayModules();
    const config = loadGatewayConfig(process.env);
    const rt = await GatewayRuntime.start(config, createLogger('ocpp-gateway-bench', 'warn'), { metrics: counting });
    send({ ready: true, url: `ws://127.0.0.1:${rt.server.ports.ws}/ocpp` });
    stop = () => rt.stop();
    process.on('message', async (m: { cmd: string; ids: string[] }) => {
      if (m.cmd === 'register') {
        await register(rt, m.ids);
        send({ registered: m.ids.length });
      }
    });
  }
  process.on('message', async (m: { cmd: string }) => {
    if (m.cmd === 'rss') send({ rss: rss() });
    if (m.cmd === 'stats') send({ stats });
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
