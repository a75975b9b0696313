import { isLocalAddress } from '../plugins/directory-tree/operations';
import {
  type EventBridgeEvent,
  isObject,
  matchesEventPattern,
  SOURCE_CHANGED_PATTERN,
  s3ObjectCreatedPattern,
} from './event-patterns';
import type { DSource, Environment, SourceConfig } from './model';
import { normalize } from './paths';
import { type EventSync, eventSync } from './triggered-runs';

/** What an event is matched against: the engine's dSources, source configs and environments. */
export interface EventCatalog {
  dsources: readonly DSource[];
  sourceConfigs: readonly SourceConfig[];
  environments: readonly Environment[];
}

/**
 * The syncs an event starts: one per dSource it names, each dSource at most once, in the catalog's
 * order; none for an event that matches no trigger or names no dSource.
 *
 * - A `snapflow` "Source Data Changed" event ({@link SOURCE_CHANGED_PATTERN}) names the dSource whose
 *   id is `detail.dsourceId`, and every dSource whose source data is at `detail.sourcePath` on
 *   `detail.sourceHost`, when it gives both. The host is the source config's environment, named by
 *   the environment's `name` or `hostId` (its SSM instance id on AWS), or the dSource's
 *   `linkedSource.sourceAddress`, the address the copy reads from, so a host may call itself by
 *   whichever name it knows. An address the plugin copies locally from (`localhost`, any case) names
 *   no host, as it would name every staging host. Paths compare without repeated or trailing slashes.
 * - An S3 "Object Created" event ({@link s3ObjectCreatedPattern} of the buckets the dSources' event
 *   sources name) names every dSource with an event source for its bucket whose prefix the object's
 *   key starts with (an empty prefix takes the whole bucket). On AWS only the buckets configured for
 *   the S3 rule send such events here.
 *
 * Each sync has the event as its trigger (`{kind: 'event', id: event.id}`) and a job id made from the
 * event's id and the dSource's, so a second delivery of the event starts nothing new.
 */
export function syncsForEvent(event: EventBridgeEvent, catalog: EventCatalog): EventSync[] {
  const named = new Set<string>([...sourceChangedDSources(event, catalog), ...objectCreatedDSources(event, catalog)]);
  return catalog.dsources.filter((dsource) => named.has(dsource.id)).map((dsource) => eventSync(dsource.id, event.id));
}

function sourceChangedDSources(event: EventBridgeEvent, catalog: EventCatalog): string[] {
  if (!matchesEventPattern(SOURCE_CHANGED_PATTERN, event)) return [];
  const { dsourceId, sourceHost, sourcePath } = event.detail;
  const byId = typeof dsourceId === 'string' ? catalog.dsources.filter((dsource) => dsource.id === dsourceId) : [];
  if (typeof sourceHost !== 'string' || typeof sourcePath !== 'string') return byId.map((dsource) => dsource.id);
  const path = normalize(sourcePath);
  const sourceConfigs = new Map(catalog.sourceConfigs.map((config) => [config.id, config]));
  const environments = new Map(catalog.environments.map((environment) => [environment.id, environment]));
  const byLocation = catalog.dsources.filter((dsource) => {
    const config = sourceConfigs.get(dsource.sourceConfigId);
    if (config === undefined || normalize(config.path) !== path) return false;
    const environment = environments.get(config.environmentId);
    const address = dsource.parameters.sourceAddress;
    return (
      environment?.name === sourceHost ||
      environment?.hostId === sourceHost ||
      (address === sourceHost && !isLocalAddress(address))
    );
  });
  return [...byId, ...byLocation].map((dsource) => dsource.id);
}

function objectCreatedDSources(event: EventBridgeEvent, catalog: EventCatalog): string[] {
  const buckets = [
    ...new Set(catalog.dsources.flatMap((dsource) => dsource.eventSources.map((source) => source.bucket))),
  ];
  if (buckets.length === 0 || !matchesEventPattern(s3ObjectCreatedPattern(buckets), event)) return [];
  const bucket = isObject(event.detail.bucket) ? event.detail.bucket.name : undefined;
  const key = isObject(event.detail.object) ? event.detail.object.key : undefined;
  if (typeof key !== 'string') return [];
  return catalog.dsources
    .filter((dsource) =>
      dsource.eventSources.some(
        (source) => source.kind === 's3' && source.bucket === bucket && key.startsWith(source.prefix),
      ),
    )
    .map((dsource) => dsource.id);
}
