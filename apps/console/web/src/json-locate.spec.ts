import { fieldToPath, lineOfField } from './json-locate';

const TEXT = `{
  "id": "T1",
  "currency": "EUR",
  "elements": [
    {
      "price_components": [
        {
          "type": "ENERGY",
          "price": -1,
          "step_size": 1
        }
      ]
    }
  ]
}`;

describe('locating a problem field in the tariff editor text', () => {
  it('reads the services field syntax and JSON pointers', () => {
    expect(fieldToPath('body/elements[0].price_components[0].price')).toEqual([
      'elements',
      0,
      'price_components',
      0,
      'price',
    ]);
    expect(fieldToPath('/elements/0/price_components')).toEqual(['elements', 0, 'price_components']);
    expect(fieldToPath('body/currency')).toEqual(['currency']);
  });
  it('finds the line of the member, or of its deepest parent', () => {
    expect(lineOfField(TEXT, 'body/elements[0].price_components[0].price')).toBe(9);
    expect(lineOfField(TEXT, 'body/currency')).toBe(3);
    expect(lineOfField(TEXT, 'body/elements[0].price_components[0].vat')).toBe(7);
    expect(lineOfField(TEXT, 'body/elements[0]')).toBe(5);
    expect(lineOfField('{"a": [1, 2', 'body/a[1]')).toBe(1);
  });
});
