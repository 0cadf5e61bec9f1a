import type { PaymentServiceConfig } from './config';
import type { PaymentProvider } from './provider/port';

/** The PSP adapter of the configuration: the Stripe adapter (official SDK) at PSP_API_URL (the local emulator or Stripe). */
export function createProvider(_cfg: PaymentServiceConfig): PaymentProvider {
  throw new Error('the Stripe adapter is not in this tree yet');
}
