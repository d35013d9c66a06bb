/**
 * What preflight reports: one finding per problem a printer or the post office would have with a
 * piece, naming the piece, the page and (where known) the element. Errors make the output unfit for
 * press; warnings deserve a look.
 */
export interface Finding {
  severity: 'error' | 'warning';
  /** The piece: a sample's name (validate), or "piece 3" in a print file. */
  piece: string;
  /** From 1, within the piece. */
  page: number;
  /** The element's name, when the check knows it. */
  element?: string;
  rule: string;
  message: string;
}

/** Effective resolution of placed images: below WARN_PPI a warning, below ERROR_PPI an error. */
export const WARN_PPI = 300;
export const ERROR_PPI = 150;
/** Text smaller than this (points) is hard to print cleanly and to read. */
export const MIN_TEXT_SIZE = 6;

/** A finding about an image's effective resolution at its placed size, or null if it is fine. */
export function resolutionFinding(
  where: Pick<Finding, 'piece' | 'page' | 'element'>,
  ppi: number,
  what: string,
): Finding | null {
  if (ppi >= WARN_PPI) return null;
  const severity = ppi < ERROR_PPI ? 'error' : 'warning';
  return {
    ...where,
    severity,
    rule: 'low_resolution',
    message: `${what} is ${Math.round(ppi)} ppi at its placed size (${severity === 'error' ? `under ${ERROR_PPI}` : `under ${WARN_PPI}`})`,
  };
}

export function formatFinding(f: Finding): string {
  const element = f.element ? ` ${f.element}` : '';
  return `${f.severity}: ${f.piece}, page ${f.page}${element}: ${f.message} [${f.rule}]`;
}
