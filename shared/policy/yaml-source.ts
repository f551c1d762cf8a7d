import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';

/** One problem in one file, pointed at the line a person has to fix. */
export interface SourceError {
  file: string;
  line: number;
  message: string;
}

export interface ParsedYaml {
  value: unknown;
  lineOf(path: ReadonlyArray<PropertyKey>): number;
}

export function parseYamlWithLines(
  file: string,
  text: string,
): { ok: true; parsed: ParsedYaml } | { ok: false; errors: SourceError[] } {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line ?? 1,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  const lineOf = (path: ReadonlyArray<PropertyKey>): number => {
    // Walk up the path until a node with a position is found (a missing key points at its parent).
    for (let n = path.length; n >= 0; n -= 1) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
  return { ok: true, parsed: { value: doc.toJS(), lineOf } };
}

export function zodErrorsWithLines(file: string, parsed: ParsedYaml, error: z.ZodError): SourceError[] {
  return error.issues.map((issue) => ({
    file,
    line: parsed.lineOf(issue.path),
    message: `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`,
  }));
}

export function formatSourceError(e: SourceError): string {
  return `${e.file}:${e.line}: ${e.message}`;
}
