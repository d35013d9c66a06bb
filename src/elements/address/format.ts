/** The recipient block's lines, from merged record values. */

export interface AddressParts {
  name?: string;
  company?: string;
  line1?: string;
  line2?: string;
  city?: string;
  state?: string;
  zip?: string;
  country?: string;
}

const DOMESTIC = /^(US|USA|U\.S\.A\.|UNITED STATES( OF AMERICA)?)$/i;

/**
 * The recipient block, one line each: name, company, street with its unit (USPS Publication 28 puts
 * the unit on the delivery line), then `CITY ST 12345-6789`, then the country if it is not the US.
 * Empty lines are left out; runs of spaces collapse.
 */
export function formatAddress(parts: AddressParts): string {
  const clean = (value: string | undefined) => (value ?? '').replace(/\s+/g, ' ').trim();
  const country = clean(parts.country);
  const lines = [
    clean(parts.name),
    clean(parts.company),
    clean(`${clean(parts.line1)} ${clean(parts.line2)}`),
    clean(`${clean(parts.city)} ${clean(parts.state)} ${clean(parts.zip)}`),
    DOMESTIC.test(country) ? '' : country,
  ];
  return lines.filter((line) => line !== '').join('\n');
}
