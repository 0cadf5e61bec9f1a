import type { CheckoutSession } from './objects';

/** The emulator's hosted payment page (Stripe Checkout's role): plain HTML, one form, test card numbers listed. */

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Minor units → a display amount (the exponent is what the currency's line items used; 2 unless zero-decimal). */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);
export function displayAmount(minor: number, currency: string): string {
  const exp = ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
  const s = String(minor).padStart(exp + 1, '0');
  const major = exp === 0 ? s : `${s.slice(0, s.length - exp)}.${s.slice(s.length - exp)}`;
  return `${major} ${currency.toUpperCase()}`;
}

export function checkoutPage(s: CheckoutSession, error?: string): string {
  const amount = displayAmount(s.amount_total, s.currency);
  const hold = s.payment_intent ? 'The amount is reserved on your card now and charged at the end.' : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay ${esc(amount)} — PSP emulator</title></head>
<body>
<main>
<h1>${esc(s._description)}</h1>
<p id="amount">Amount: <strong>${esc(amount)}</strong></p>
<p>${esc(hold)}</p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/checkout/${esc(s.id)}/pay">
  <label for="card_number">Card number</label>
  <input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number" value="4242 4242 4242 4242">
  <button type="submit" id="pay">Pay ${esc(amount)}</button>
</form>
${s.cancel_url ? `<p><a id="cancel" href="${esc(s.cancel_url)}">Cancel</a></p>` : ''}
<details><summary>Test cards</summary><ul>
<li>4242 4242 4242 4242: succeeds</li>
<li>4000 0000 0000 0002: declined</li>
<li>4000 0000 0000 9995: insufficient funds</li>
<li>4000 0000 0000 0069: expired card</li>
</ul></details>
<p><small>Local PSP emulator: no real payment is made.</small></p>
</main>
</body></html>
`;
}

export function messagePage(title: string, message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><main><h1>${esc(title)}</h1><p>${esc(message)}</p></main></body></html>\n`;
}
