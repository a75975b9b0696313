import { describe, expect, it } from 'vitest';
import {
  type EventPattern,
  executionEndedPattern,
  isForDefaultBus,
  matchesEventPattern,
  type PutEventsEntry,
  SOURCE_CHANGED_PATTERN,
  s3ObjectCreatedPattern,
  toEvent,
} from '../../../lib/core/event-patterns';

// Events and patterns below are the examples of the EventBridge User Guide ("Event patterns",
// "Arrays in event patterns", "Content filtering", "Matching events on event field values") and the
// S3 and Step Functions event references.
const ec2Termination = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const autoScalingLaunch = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

const s3ObjectCreated = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2021-11-12T00:00:00Z',
  region: 'ca-central-1',
  resources: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET1'],
  detail: {
    version: '0',
    bucket: { name: 'DOC-EXAMPLE-BUCKET1' },
    object: { key: 'example-key', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '617f08299329d189' },
    'request-id': 'N4N7GDK58NMKJ12R',
    requester: '123456789012',
    'source-ip-address': '1.2.3.4',
    reason: 'PutObject',
  },
};

describe('matchesEventPattern', () => {
  it('matches the EC2 termination example and not another state', () => {
    const pattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    };

    expect(matchesEventPattern(pattern, ec2Termination)).toBe(true);
    expect(matchesEventPattern(pattern, { ...ec2Termination, detail: { state: 'running' } })).toBe(false);
  });

  it('takes any of a field’s values (OR) and needs every field (AND)', () => {
    expect(matchesEventPattern({ source: ['aws.ec2', 'aws.fargate'] }, ec2Termination)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.ec2'], region: ['us-east-1'] }, ec2Termination)).toBe(false);
  });

  it('matches exactly, with case and type', () => {
    expect(matchesEventPattern({ detail: { state: ['Terminated'] } }, ec2Termination)).toBe(false);
    expect(matchesEventPattern({ detail: { object: { size: ['5'] } } }, s3ObjectCreated)).toBe(false);
    expect(matchesEventPattern({ detail: { object: { size: [5] } } }, s3ObjectCreated)).toBe(true);
  });

  it('matches an array in the event when the pattern and the array share a value', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };

    expect(matchesEventPattern(pattern, event)).toBe(true);
    expect(matchesEventPattern(pattern, { resources: [] })).toBe(false);
  });

  it('matches null and the empty string as values', () => {
    expect(matchesEventPattern({ detail: { responseElements: [null] } }, autoScalingLaunch)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [''] } }, autoScalingLaunch)).toBe(true);
    expect(matchesEventPattern({ detail: { eventVersion: [null] } }, autoScalingLaunch)).toBe(false);
  });

  it('matches a prefix of string values only', () => {
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matchesEventPattern({ time: [{ prefix: '2017-10-02' }] }, ec2Termination)).toBe(false);
    expect(matchesEventPattern({ detail: { object: { size: [{ prefix: '5' }] } } }, s3ObjectCreated)).toBe(false);
  });

  it('matches exists on leaves: true when present (null too), false when absent', () => {
    expect(matchesEventPattern({ detail: { state: [{ exists: true }] } }, ec2Termination)).toBe(true);
    expect(matchesEventPattern({ detail: { 'c-count': [{ exists: false }] } }, ec2Termination)).toBe(true);
    expect(matchesEventPattern({ detail: { state: [{ exists: false }] } }, ec2Termination)).toBe(false);
    expect(matchesEventPattern({ detail: { responseElements: [{ exists: true }] } }, autoScalingLaunch)).toBe(true);
    // Not on intermediate nodes: an object is not a leaf.
    expect(matchesEventPattern({ detail: [{ exists: true }] }, ec2Termination)).toBe(false);
  });

  it('never matches a field the event lacks, nor inside a field that is not an object', () => {
    expect(matchesEventPattern({ detail: { 'instance-type': ['t3.micro'] } }, ec2Termination)).toBe(false);
    expect(matchesEventPattern({ detail: { state: { name: ['terminated'] } } }, ec2Termination)).toBe(false);
    expect(matchesEventPattern({ source: ['aws.ec2'] }, undefined)).toBe(false);
  });

  it('refuses operators it does not implement, and leaves with no condition', () => {
    const suffix = { detail: { state: [{ suffix: 'ed' }] } } as unknown as EventPattern;

    expect(() => matchesEventPattern(suffix, ec2Termination)).toThrow(
      expect.objectContaining({ name: 'UnsupportedOperationError', field: 'detail.state' }),
    );
    // Even when the event would fail the pattern before reaching the operator.
    expect(() => matchesEventPattern({ source: ['x'], ...suffix }, ec2Termination)).toThrow(/does not implement/);
    expect(() => matchesEventPattern({ source: [] }, ec2Termination)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'source' }),
    );
  });
});

describe('SOURCE_CHANGED_PATTERN', () => {
  it('is the snapflow "Source Data Changed" event, and no other', () => {
    expect(SOURCE_CHANGED_PATTERN).toEqual({ source: ['snapflow'], 'detail-type': ['Source Data Changed'] });
    const event = { ...ec2Termination, source: 'snapflow', 'detail-type': 'Source Data Changed', detail: {} };

    expect(matchesEventPattern(SOURCE_CHANGED_PATTERN, event)).toBe(true);
    expect(matchesEventPattern(SOURCE_CHANGED_PATTERN, { ...event, 'detail-type': 'Source Data Deleted' })).toBe(false);
    expect(matchesEventPattern(SOURCE_CHANGED_PATTERN, { ...event, source: 'Snapflow' })).toBe(false);
  });
});

describe('s3ObjectCreatedPattern', () => {
  it('matches the S3 Object Created example for its buckets only', () => {
    const pattern = s3ObjectCreatedPattern(['other-bucket', 'DOC-EXAMPLE-BUCKET1']);

    expect(pattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['other-bucket', 'DOC-EXAMPLE-BUCKET1'] } },
    });
    expect(matchesEventPattern(pattern, s3ObjectCreated)).toBe(true);
    expect(matchesEventPattern(s3ObjectCreatedPattern(['other-bucket']), s3ObjectCreated)).toBe(false);
    expect(matchesEventPattern(pattern, { ...s3ObjectCreated, 'detail-type': 'Object Deleted' })).toBe(false);
  });

  it('refuses an empty list, which EventBridge would refuse too', () => {
    expect(() => s3ObjectCreatedPattern([])).toThrow(/at least one bucket/);
  });
});

describe('executionEndedPattern', () => {
  const arn = 'arn:aws:states:us-east-1:123456789012:stateMachine:Link';
  const statusChange = (status: string, stateMachineArn = arn) => ({
    version: '0',
    id: '315c1398-40ff-a850-213b-158f73e60175',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2019-02-26T19:42:21Z',
    region: 'us-east-1',
    resources: [`${stateMachineArn.replace(':stateMachine:', ':execution:')}:run-1`],
    detail: { executionArn: 'arn:…', stateMachineArn, name: 'run-1', status, input: '{}', output: null },
  });

  it('matches the end of an execution of the given state machines, however it ended', () => {
    const pattern = executionEndedPattern([arn]);

    for (const status of ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'])
      expect(matchesEventPattern(pattern, statusChange(status)), status).toBe(true);
    expect(matchesEventPattern(pattern, statusChange('RUNNING'))).toBe(false);
    expect(matchesEventPattern(pattern, statusChange('SUCCEEDED', `${arn}Other`))).toBe(false);
  });
});

describe('toEvent', () => {
  const envelope = {
    id: 'event-1',
    time: new Date('2026-11-21T10:00:00.123Z'),
    account: '000000000000',
    region: 'local',
  };
  const entry: PutEventsEntry = {
    Source: 'snapflow',
    DetailType: 'Source Data Changed',
    Detail: '{"dsourceId":"ds-00000000000000d1"}',
  };

  it('makes the event EventBridge makes of a PutEvents entry', () => {
    expect(toEvent({ ...entry, Resources: ['arn:x'] }, envelope)).toEqual({
      version: '0',
      id: 'event-1',
      'detail-type': 'Source Data Changed',
      source: 'snapflow',
      account: '000000000000',
      time: '2026-11-21T10:00:00Z',
      region: 'local',
      resources: ['arn:x'],
      detail: { dsourceId: 'ds-00000000000000d1' },
    });
  });

  it("takes the entry's own time, as a UTC timestamp or epoch seconds", () => {
    expect(toEvent({ ...entry, Time: '2026-01-02T03:04:05Z' }, envelope).time).toBe('2026-01-02T03:04:05Z');
    expect(toEvent({ ...entry, Time: 1_767_323_045 }, envelope).time).toBe('2026-01-02T03:04:05Z');
  });

  it('refuses a Detail that is not a JSON object and a Time that is not a time, naming the field', () => {
    for (const Detail of ['not json', '[1]', 'null', '"text"'])
      expect(() => toEvent({ ...entry, Detail }, envelope, 'Entries.2')).toThrow(
        expect.objectContaining({ name: 'ValidationError', field: 'Entries.2.Detail' }),
      );
    expect(() => toEvent({ ...entry, Time: 'yesterday' }, envelope)).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'entry.Time' }),
    );
  });

  it('makes events the patterns match', () => {
    expect(matchesEventPattern(SOURCE_CHANGED_PATTERN, toEvent(entry, envelope))).toBe(true);
    expect(matchesEventPattern(SOURCE_CHANGED_PATTERN, toEvent({ ...entry, Source: 'other' }, envelope))).toBe(false);
  });
});

describe('isForDefaultBus', () => {
  it('holds for no bus, "default" and the default bus ARN only', () => {
    const entry = { Source: 's', DetailType: 'd', Detail: '{}' };

    expect(isForDefaultBus(entry)).toBe(true);
    expect(isForDefaultBus({ ...entry, EventBusName: 'default' })).toBe(true);
    expect(isForDefaultBus({ ...entry, EventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/default' })).toBe(
      true,
    );
    expect(isForDefaultBus({ ...entry, EventBusName: 'orders' })).toBe(false);
  });
});
