/**
 * The whole CSMS for the console's browser test (and for working on the console): the five services as
 * their own processes, each with its own database and unique topics, the PSP emulator the payment service calls
 * (in this process), and three API keys (admin, operator, finance) — `system.ts`.
 * `stop()` kills them and drops their databases.
 */
import { startSystem as start, type RunningSystem } from './system';

export { SYSTEM_SERVICES, type RunningSystem, type SystemService } from './system';

export function startSystem(label = 'console'): Promise<RunningSystem> {
  return start({ label, startTimeoutMs: 300_000 });
}
