import { describe, expect, it } from 'vitest';
import {
  createEnvironmentBody,
  dsourceSchema,
  environmentSchema,
  snapshotSchema,
  vdbSchema,
} from '../../../lib/api/api-schemas';
import * as engine from '../../../lib/engine/api-schemas';
import {
  linkedSourceDefinition,
  snapshotDefinition,
  snapshotParametersDefinition,
  sourceConfigDefinition,
  virtualSourceDefinition,
} from '../../../lib/plugins/directory-tree/schemas';

const propertiesOf = (schema: object) => (schema as { properties: Record<string, object> }).properties;

describe('API answer schemas', () => {
  it("keep the engine's constraints, in snake_case", () => {
    expect(environmentSchema.properties.host_id).toEqual(engine.environmentSchema.properties.hostId);
    expect(environmentSchema.properties.scratch_path).toEqual(engine.environmentSchema.properties.scratchPath);
    expect(createEnvironmentBody.required).toEqual(['name', 'host_id']);
    expect(propertiesOf(snapshotSchema.properties.provenance as object).plugin_version).toEqual(
      engine.provenanceSchema.properties.pluginVersion,
    );
  });

  it('hold the plugin’s schemas as the plugin writes them, its parameters under their Delphix names', () => {
    expect(dsourceSchema.properties.linked_source).toBe(linkedSourceDefinition);
    expect(dsourceSchema.properties).not.toHaveProperty('parameters');
    expect(dsourceSchema.required).toContain('linked_source');
    expect(vdbSchema.properties.virtual_source).toBe(virtualSourceDefinition);
    expect(vdbSchema.properties.source_config).toBe(sourceConfigDefinition);
    expect(vdbSchema.required).toContain('virtual_source');
    expect(snapshotSchema.properties.metadata).toBe(snapshotDefinition);
    expect(propertiesOf(snapshotSchema.properties.provenance as object).snapshot_parameters).toBe(
      snapshotParametersDefinition,
    );
  });

  it('add what the API answers besides the engine’s fields', () => {
    expect(dsourceSchema.properties).toHaveProperty('next_snapshot_at');
    expect(vdbSchema.properties).toHaveProperty('next_snapshot_at');
    expect(snapshotSchema.required).toContain('retain_forever');
  });
});
