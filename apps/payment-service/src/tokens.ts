/** Nest injection tokens of the payment service. */
export const PAYMENT_CONFIG = Symbol('payment-config');
export const PAYMENT_ENGINE = Symbol('payment-engine');
export const PAYMENT_DEPS = Symbol('payment-deps');
