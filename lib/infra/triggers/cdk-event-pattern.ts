import type * as events from 'aws-cdk-lib/aws-events';
import type { EventPattern } from '../../core/event-patterns';

/**
 * A core event pattern in the shape `events.Rule` takes, which spells `detail-type` as `detailType`
 * and renders it back; the template's `EventPattern` is then the core pattern itself.
 */
export function cdkEventPattern(pattern: EventPattern): events.EventPattern {
  const { 'detail-type': detailType, ...fields } = pattern;
  return { ...fields, ...(detailType === undefined ? {} : { detailType }) } as events.EventPattern;
}
