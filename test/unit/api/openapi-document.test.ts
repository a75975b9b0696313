import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lib/api/openapi-document';
import { type Route, routes } from '../../../lib/api/routes';
import { toApiGatewaySchema } from '../../../lib/api/schema-dialects';
import { linkedSourceDefinition } from '../../../lib/plugins/directory-tree/schemas';

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string }[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: object } } };
  responses: Record<string, unknown>;
};

describe('openApiDocument', () => {
  const document = openApiDocument({ serverUrl: 'http://127.0.0.1:7760' });
  const paths = document.paths as Record<string, Record<string, Operation>>;

  it('has one operation per route, under its path and method', () => {
    const operations = Object.entries(paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => `${method.toUpperCase()} ${path} ${operation.operationId}`),
    );
    expect(operations.sort()).toEqual(
      (routes as readonly Route[]).map((route) => `${route.method} ${route.path} ${route.operationId}`).sort(),
    );
    expect(document.servers).toEqual([{ url: 'http://127.0.0.1:7760' }]);
  });

  it('documents parameters, bodies and answers', () => {
    const list = paths['/snapshots']?.get as Operation;
    expect(list.parameters).toEqual([expect.objectContaining({ name: 'dataset_id', in: 'query' })]);
    const provision = paths['/vdbs/provision_by_snapshot']?.post as Operation;
    expect(provision.requestBody?.required).toBe(true);
    expect(Object.keys(provision.responses)).toEqual(['202', '400', '401', '404', '409', 'default']);
    const refresh = paths['/vdbs/{id}/refresh_by_snapshot']?.post as Operation;
    expect(refresh.requestBody?.required).toBe(false);
    expect(refresh.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
  });

  it('leaves out the Delphix plugin keywords, which OpenAPI does not know', () => {
    expect(JSON.stringify(document)).not.toMatch(/prettyName|nameField|identityFields/);
  });
});

describe('toApiGatewaySchema', () => {
  it('makes a draft-4 schema without plugin keywords and formats', () => {
    const schema = toApiGatewaySchema(linkedSourceDefinition) as Record<string, unknown>;

    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(JSON.stringify(schema)).not.toMatch(/prettyName|"format"/);
    expect((schema.properties as Record<string, object>).mountLocation).toEqual({
      type: 'string',
      pattern: linkedSourceDefinition.properties.mountLocation.pattern,
      maxLength: 4095,
      description: 'Where to mount storage onto the staging host while syncing',
    });
  });
});
