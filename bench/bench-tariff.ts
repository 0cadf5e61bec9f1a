/**
 * The benchmarks' default tariff: a start fee, energy dearer 17:00–21:00, energy + time otherwise, parking (4
 * elements, a time-of-day restriction), with the given id.
 */
export function benchTariff(id: string) {
  return {
    country_code: 'NL',
    party_id: 'CSM',
    id,
    currency: 'EUR',
    elements: [
      { price_components: [{ type: 'FLAT', price: 0.5, vat: 21, step_size: 1 }] },
      {
        price_components: [{ type: 'ENERGY', price: 0.45, vat: 21, step_size: 100 }],
        restrictions: { start_time: '17:00', end_time: '21:00' },
      },
      {
        price_components: [
          { type: 'ENERGY', price: 0.3, vat: 21, step_size: 100 },
          { type: 'TIME', price: 1.2, vat: 21, step_size: 60 },
        ],
      },
      { price_components: [{ type: 'PARKING_TIME', price: 6, vat: 21, step_size: 300 }] },
    ],
  };
}
