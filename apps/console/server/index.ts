export * from './server';
import type { ConsoleService } from './server';

/** Each service's base URL from the environment, defaulting to the ports `npm start` uses. */
export function consoleUpstreams(env: NodeJS.ProcessEnv): Record<ConsoleService, string> {
  const url = (full: string, portVar: string, port: number) =>
    env[full] ?? `http://127.0.0.1:${Number(env[portVar] ?? port)}`;
  return {
    gateway: url('CONSOLE_GATEWAY_URL', 'GATEWAY_HTTP_PORT', 3000),
    sessions: url('CONSOLE_SESSIONS_URL', 'SESSION_HTTP_PORT', 3001),
    tariffs: url('CONSOLE_TARIFFS_URL', 'TARIFF_HTTP_PORT', 3002),
    reporting: url('CONSOLE_REPORTING_URL', 'REPORTING_HTTP_PORT', 3003),
    payments: url('CONSOLE_PAYMENTS_URL', 'PAYMENT_HTTP_PORT', 3004),
  };
}
