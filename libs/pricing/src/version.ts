/** Version of the pricing rules. Bump on ANY change that can change a priced output. */
export const PRICING_ENGINE_VERSION = 'csms-pricing-ocpi-2.2.1/1.1.0';
