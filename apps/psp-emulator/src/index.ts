export { startPspEmulator, DEFAULT_API_VERSION, type PspEmulator, type PspEmulatorOptions } from './emulator';
export type { FaultSpec, FaultKind, Fault, Operation } from './faults';
export type { PaymentSummary } from './psp';
export { signPayload, type StripeEvent } from './webhooks';
export { TEST_PAYMENT_METHODS, TEST_CARD_NUMBERS } from './cards';
