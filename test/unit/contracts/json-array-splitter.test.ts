import { describe, it, expect } from '@jest/globals';
import { JsonArraySplitter, type SplitEvent } from '../../../shared/contracts/json-array-splitter.js';

/** Feeds the text in chunks of every size from 1 up, so that no boundary position goes untested. */
function splitAllWays(text: string): SplitEvent[] {
  let first: SplitEvent[] | undefined;
  for (let size = 1; size <= text.length + 1; size++) {
    const splitter = new JsonArraySplitter();
    const events: SplitEvent[] = [];
    for (let i = 0; i < text.length; i += size) events.push(...splitter.push(text.slice(i, i + size)));
    events.push(...splitter.end());
    if (first === undefined) first = events;
    else expect(events).toEqual(first);
  }
  return first ?? [];
}

function texts(events: SplitEvent[]): unknown[] {
  return events.map((e) => (e.kind === 'element' ? JSON.parse(e.text) : e));
}

describe('JsonArraySplitter', () => {
  it('ignores braces, brackets, commas and escaped quotes inside strings', () => {
    const elements = [
      { s: 'a } b ] c , d { e [' },
      { s: 'quote \\" inside, and a backslash at the end \\\\' },
      { nested: { deep: [1, [2, { x: '"]}' }]] } },
      'top-level string with , and ]',
      42,
      null,
      { unicode: '\u00e9 \u2603 \ud83d\ude00' },
    ];
    const events = splitAllWays(JSON.stringify(elements, null, 2));
    expect(texts(events)).toEqual(elements);
  });

  it('reports the line each element starts on', () => {
    const text = '[\n  {"a": 1},\n\n  {"b":\n    2},\n  3\n]\n';
    const events = splitAllWays(text);
    expect(events.map((e) => e.line)).toEqual([2, 4, 6]);
  });

  it('hands over a malformed element as text and keeps going', () => {
    const events = splitAllWays('[{"a": 1}, {"b": }, {"c": 3}]');
    expect(events.map((e) => (e.kind === 'element' ? e.text : e.reason))).toEqual([
      '{"a": 1}',
      '{"b": }',
      '{"c": 3}',
    ]);
  });

  it('handles empty arrays and reports structural problems', () => {
    expect(splitAllWays(' [ ] ')).toEqual([]);
    expect(splitAllWays('[1,,2]').map((e) => e.kind)).toEqual(['element', 'error', 'element']);
    expect(splitAllWays('[1,]').map((e) => e.kind)).toEqual(['element', 'error']);
    expect(splitAllWays('{"a":1}')).toEqual([
      { kind: 'error', line: 1, reason: "expected '[' to open a JSON array, found '{'" },
    ]);
    expect(splitAllWays('[1] x')).toEqual([
      { kind: 'element', text: '1', line: 1 },
      { kind: 'error', line: 1, reason: "unexpected 'x' after the end of the array" },
    ]);
    expect(splitAllWays('[1,\n{"a": "unterminated}]\n')).toEqual([
      { kind: 'element', text: '1', line: 1 },
      { kind: 'error', line: 2, reason: expect.stringMatching(/never ends/) },
    ]);
    expect(splitAllWays('[1,\n 2 ')).toEqual([
      { kind: 'element', text: '1', line: 1 },
      { kind: 'element', text: '2', line: 2 },
      { kind: 'error', line: 2, reason: "the JSON array is not closed with ']'" },
    ]);
    expect(splitAllWays('')).toEqual([{ kind: 'error', line: 1, reason: 'empty input: no JSON array' }]);
  });
});
