import type { OpenAPIObject } from '@nestjs/swagger';
import { declarePathParameters } from './openapi-path-params';

const doc = (paths: OpenAPIObject['paths']): OpenAPIObject => ({
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths,
});

describe('declarePathParameters', () => {
  it('adds each undeclared {name} of a path as a required string path parameter, on every method', () => {
    const d = declarePathParameters(
      doc({
        '/api/v1/commands/{commandId}/results/{n}': {
          get: { responses: {} },
          delete: { responses: {}, parameters: [{ name: 'limit', in: 'query' }] },
        },
      }),
    );
    const item = d.paths['/api/v1/commands/{commandId}/results/{n}'];
    const expected = [
      { name: 'commandId', required: true, in: 'path', schema: { type: 'string' } },
      { name: 'n', required: true, in: 'path', schema: { type: 'string' } },
    ];
    expect(item.get!.parameters).toEqual(expected);
    expect(item.delete!.parameters).toEqual([{ name: 'limit', in: 'query' }, ...expected]);
  });

  it('keeps a declared one as it is (its schema, format and example), and leaves paths without parameters alone', () => {
    const declared = { name: 'id', required: true, in: 'path' as const, schema: { type: 'string', format: 'uuid' } };
    const d = declarePathParameters(
      doc({ '/a/{id}': { post: { responses: {}, parameters: [declared] } }, '/b': { get: { responses: {} } } }),
    );
    expect(d.paths['/a/{id}'].post!.parameters).toEqual([declared]);
    expect(d.paths['/b'].get!.parameters).toBeUndefined();
  });

  it('a query parameter of the same name does not count as the path one', () => {
    const d = declarePathParameters(
      doc({ '/a/{id}': { get: { responses: {}, parameters: [{ name: 'id', in: 'query' }] } } }),
    );
    expect(d.paths['/a/{id}'].get!.parameters).toEqual([
      { name: 'id', in: 'query' },
      { name: 'id', required: true, in: 'path', schema: { type: 'string' } },
    ]);
  });
});
