import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@csms/platform';

/** Every environment variable of the emulator (validated at start-up; see README). */
export const PspEmulatorConfigSchema = Type.Object({
  HTTP_HOST: Type.String({ default: '127.0.0.1', description: 'address the emulator listens on' }),
  HTTP_PORT: Type.Integer({ default: 12111, minimum: 0, maximum: 65535, description: 'the Stripe API, pages, admin' }),
  PSP_EMULATOR_PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'base URL of the hosted payment pages as a browser reaches them',
    }),
  ),
  PSP_EMULATOR_WEBHOOK_URL: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'where webhooks are POSTed' }),
  ),
  PSP_EMULATOR_WEBHOOK_SECRET: Type.Optional(
    Type.String({
      minLength: 8,
      description: 'signing secret of the webhooks (whsec_...); required with a webhook URL',
    }),
  ),
  PSP_EMULATOR_API_KEY: Type.Optional(
    Type.String({ pattern: '^(sk|rk)_test_', description: 'the only secret key accepted; unset: any sk_test_ key' }),
  ),
  PSP_EMULATOR_STATE_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'journal file: state survives restarts and SIGKILL' }),
  ),
  PSP_EMULATOR_HOLD_SECONDS: Type.Integer({ default: 604800, minimum: 1, description: 'manual-capture hold lifetime' }),
  PSP_EMULATOR_FEE_BPS: Type.Integer({ default: 140, minimum: 0, maximum: 10000 }),
  PSP_EMULATOR_FEE_FIXED_MINOR: Type.Integer({ default: 25, minimum: 0 }),
  PSP_EMULATOR_WEBHOOK_MAX_ATTEMPTS: Type.Integer({
    default: 30,
    minimum: 1,
    description: 'deliveries tried per event (about 2 minutes with the backoff)',
  }),
  PSP_EMULATOR_WEBHOOK_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 256 }),
});
export type PspEmulatorConfig = Static<typeof PspEmulatorConfigSchema>;

export function loadPspEmulatorConfig(env: NodeJS.ProcessEnv = process.env): PspEmulatorConfig {
  const c = loadConfig(PspEmulatorConfigSchema, env);
  if (c.PSP_EMULATOR_WEBHOOK_URL && !c.PSP_EMULATOR_WEBHOOK_SECRET) {
    throw new Error(
      'invalid configuration:\n  PSP_EMULATOR_WEBHOOK_SECRET: required when PSP_EMULATOR_WEBHOOK_URL is set',
    );
  }
  return c;
}
