import { describe, expect, it } from 'vitest';
import { ErrorNames, SnapflowError, snapflowErrorFromJson } from '../../../lib/core/errors';

describe('snapflowErrorFromJson', () => {
  it('gives back the error toJSON() wrote, with every field', () => {
    // Prepare
    const sent = new SnapflowError(ErrorNames.CopyFailed, 'rsync failed', {
      action: 'Check the source.',
      field: 'targetPath',
      output: 'rsync: error 11',
    });

    // Act
    const received = snapflowErrorFromJson(JSON.parse(JSON.stringify(sent)), 'See the log.');

    // Assess
    expect(received).toBeInstanceOf(SnapflowError);
    expect(received?.toJSON()).toEqual(sent.toJSON());
  });

  it('fills in the action given when the body has none, and ignores fields that are not strings', () => {
    const received = snapflowErrorFromJson(
      { error: { code: 'NotFoundError', message: 'gone', field: 7 } },
      'See the log.',
    );

    expect(received?.toJSON()).toEqual({ error: { code: 'NotFoundError', message: 'gone', action: 'See the log.' } });
  });

  it.each([
    ['no body', undefined],
    ['null', null],
    ['a string', 'Bad Gateway'],
    ['an API Gateway answer', { message: 'Forbidden' }],
    ['an error without a message', { error: { code: 'NotFoundError' } }],
    ['an unknown error name', { error: { code: 'TeapotError', message: 'short and stout' } }],
    ['an error that is not an object', { error: null }],
  ])('answers undefined for %s', (_, body) => {
    expect(snapflowErrorFromJson(body, 'See the log.')).toBeUndefined();
  });
});
