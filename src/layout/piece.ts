import { PlatenError, type Problem } from '../errors.js';
import type { DrawItem } from '../model/kinds.js';
import type { FitReportEntry, FittedPiece, Piece } from '../model/piece.js';
import type { PieceRecord } from '../model/record.js';
import { fitText } from '../text/fit.js';

/**
 * Fits every text of a piece. Returns the fitted piece and its problems (overflow, characters no
 * font shows); a piece with problems must not be drawn, but its report is still useful to a form.
 */
export function fitPiece(piece: Piece): { fitted: FittedPiece; problems: Problem[] } {
  const report: FitReportEntry[] = [];
  const problems: Problem[] = [];
  const reportedMissing = new Set<string>();
  const pages = piece.pages.map((items) =>
    items.map((item): DrawItem => {
      if (item.kind !== 'fit') return item;
      const { element } = item;
      const fit = fitText(item.spans, element.spec);
      const where = element.field !== undefined ? `fields.${element.field}` : `elements.${element.name}`;
      report.push({
        element: element.name,
        ...(element.field !== undefined ? { field: element.field } : {}),
        status: fit.status,
        size: fit.size,
        preferredSize: element.spec.size,
        ...(fit.overflow ? { overflow: fit.overflow } : {}),
      });
      if (fit.overflow) {
        problems.push({
          path: where,
          rule: 'overflow',
          message: `too long for its box at ${fit.size} pt: about ${fit.overflow.chars} characters too many (${fit.overflow.points} pt too tall)`,
        });
      }
      for (const missing of fit.missing) {
        const paths = pathsContaining(piece.record, missing.char);
        const path = paths.length > 0 ? paths.join(', ') : where;
        // A value shown by several elements is one problem, not one per element.
        if (reportedMissing.has(`${path}|${missing.char}`)) continue;
        reportedMissing.add(`${path}|${missing.char}`);
        problems.push({
          path,
          rule: 'missing_glyph',
          message: `no font of the template can show "${missing.char}" (${missing.codePoint})`,
        });
      }
      return {
        kind: 'text',
        name: element.name,
        box: element.box,
        color: element.color,
        size: fit.size,
        lines: fit.lines,
      };
    }),
  );
  return {
    fitted: {
      templateId: piece.templateId,
      version: piece.version,
      recordHash: piece.recordHash,
      pages,
      report,
    },
    problems,
  };
}

/** Fits a piece or throws PlatenError('does_not_fit') with every problem. */
export function fitPieceOrThrow(piece: Piece): FittedPiece {
  const { fitted, problems } = fitPiece(piece);
  if (problems.length > 0) throw new PlatenError('does_not_fit', problems);
  return fitted;
}

function pathsContaining(record: PieceRecord, char: string): string[] {
  const paths: string[] = [];
  for (const scope of ['rep', 'prospect', 'fields'] as const) {
    for (const [key, value] of Object.entries(record[scope])) {
      if (typeof value === 'string' && value.includes(char)) paths.push(`${scope}.${key}`);
    }
  }
  return paths;
}
