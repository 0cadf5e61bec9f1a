import type { Card } from './objects';

/**
 * Stripe's test payment methods and card numbers the emulator understands, and what each does. The decline
 * behaviour follows the card's last four digits, as with Stripe's test cards.
 */
export interface CardBehaviour {
  card: Card;
  decline: { code: string; declineCode?: string; message: string } | null;
}

const card = (brand: string, last4: string): Card => ({
  brand,
  last4,
  exp_month: 12,
  exp_year: 2034,
  funding: 'credit',
  country: 'DE',
});

const DECLINES: Readonly<Record<string, CardBehaviour['decline']>> = {
  '0002': { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  '9995': {
    code: 'card_declined',
    declineCode: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  '9987': { code: 'card_declined', declineCode: 'lost_card', message: 'Your card was declined.' },
  '0069': { code: 'expired_card', message: 'Your card has expired.' },
  '0127': { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
};

/** `pm_card_*` test payment methods (usable directly as `payment_method` or attached to a customer). */
export const TEST_PAYMENT_METHODS: Readonly<Record<string, Card>> = {
  pm_card_visa: card('visa', '4242'),
  pm_card_visa_debit: { ...card('visa', '5556'), funding: 'debit' },
  pm_card_mastercard: card('mastercard', '4444'),
  pm_card_amex: card('amex', '8431'),
  pm_card_chargeDeclined: card('visa', '0002'),
  pm_card_chargeDeclinedInsufficientFunds: card('visa', '9995'),
  pm_card_insufficientFunds: card('visa', '9995'),
  pm_card_chargeDeclinedLostCard: card('visa', '9987'),
  pm_card_chargeDeclinedExpiredCard: card('visa', '0069'),
  pm_card_chargeDeclinedIncorrectCvc: card('visa', '0127'),
};

/** Card numbers accepted on the hosted payment page. */
export const TEST_CARD_NUMBERS: Readonly<Record<string, Card>> = {
  '4242424242424242': card('visa', '4242'),
  '5555555555554444': card('mastercard', '4444'),
  '4000000000000002': card('visa', '0002'),
  '4000000000009995': card('visa', '9995'),
  '4000000000009987': card('visa', '9987'),
  '4000000000000069': card('visa', '0069'),
  '4000000000000127': card('visa', '0127'),
};

export function behaviourOf(c: Card): CardBehaviour {
  return { card: c, decline: DECLINES[c.last4] ?? null };
}
