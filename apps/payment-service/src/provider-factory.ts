import type { PaymentServiceConfig } from './config';
import { ProviderUnavailableError, WebhookSignatureError, type PaymentProvider } from './provider/port';
import { StripeProvider } from './provider/stripe-provider';

/**
 * The PSP adapter of the configuration: the Stripe adapter (official SDK) at PSP_API_URL (the local emulator, or
 * https://api.stripe.com with a user's key). Without PSP_API_KEY the service still runs: every PSP call is an unknown
 * outcome (retried with back-off, logged) and every webhook is refused, until it is configured.
 */
export function createProvider(cfg: PaymentServiceConfig): PaymentProvider {
  if (cfg.PSP_API_KEY && cfg.PSP_WEBHOOK_SECRET)
    return new StripeProvider({
      apiKey: cfg.PSP_API_KEY,
      webhookSecret: cfg.PSP_WEBHOOK_SECRET,
      apiUrl: cfg.PSP_API_URL,
    });
  const missing = (): never => {
    throw new ProviderUnavailableError('no PSP configured (PSP_API_KEY and PSP_WEBHOOK_SECRET)');
  };
  return {
    authorize: missing,
    increaseAuthorization: missing,
    capture: missing,
    cancel: missing,
    refund: missing,
    retrieve: missing,
    findByIntent: missing,
    createHostedPayment: missing,
    parseWebhook: () => {
      throw new WebhookSignatureError('no PSP webhook secret configured');
    },
  };
}
