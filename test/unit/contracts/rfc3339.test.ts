import { describe, it, expect } from '@jest/globals';
import { compareRfc3339, rfc3339Nanos, timestampToRfc3339 } from '../../../shared/contracts/rfc3339.js';

describe('rfc3339', () => {
  it('orders times of different precision and offset by the instant they name', () => {
    const sorted = [
      '2024-03-01T10:00:00.000001Z',
      '2024-03-01T10:00:00Z',
      '2024-03-01T10:30:00+01:00',
      '2024-03-01T10:00:00.1Z',
      '2024-03-01T09:59:59.999999999Z',
    ].sort(compareRfc3339);
    expect(sorted).toEqual([
      '2024-03-01T10:30:00+01:00',
      '2024-03-01T09:59:59.999999999Z',
      '2024-03-01T10:00:00Z',
      '2024-03-01T10:00:00.000001Z',
      '2024-03-01T10:00:00.1Z',
    ]);
    expect(compareRfc3339('2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z')).toBe(0);
  });

  it('sorts missing and unparseable times first and refuses non-RFC 3339 text', () => {
    expect(compareRfc3339(undefined, '2024-01-01T00:00:00Z')).toBe(-1);
    expect(compareRfc3339('2024-01-01T00:00:00Z', 'soon')).toBe(1);
    expect(compareRfc3339('soon', undefined)).toBe(0);
    for (const bad of [
      '2024-03-01',
      '2024-03-01 10:00:00Z',
      '2024-03-01T10:00:00',
      '2024-03-01T10:00:00.1234567890Z',
    ]) {
      expect(rfc3339Nanos(bad)).toBeUndefined();
    }
  });

  it('writes protobuf Timestamps the way proto3 JSON does', () => {
    expect(timestampToRfc3339(1709288130n, 0)).toBe('2024-03-01T10:15:30Z');
    expect(timestampToRfc3339(1709288130n, 123000000)).toBe('2024-03-01T10:15:30.123Z');
    expect(timestampToRfc3339(1709288130n, 123456000)).toBe('2024-03-01T10:15:30.123456Z');
    expect(timestampToRfc3339(1709288130n, 123456789)).toBe('2024-03-01T10:15:30.123456789Z');
  });
});
