/** A record's values: `{ rep, prospect, fields }`, as validated against a template's inputs. */
export type RecordValue = string | boolean;
export interface PieceRecord {
  rep: Record<string, RecordValue | undefined>;
  prospect: Record<string, RecordValue | undefined>;
  fields: Record<string, RecordValue | undefined>;
}

/**
 * What template text is rendered against: every declared input present, absent optional ones empty,
 * and the piece's identity.
 */
export type MergeContext = {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
  piece: Record<string, unknown>;
};

/** A compiled piece of template text (Handlebars), rendered once per record. */
export type TextFn = (context: MergeContext) => string;

/** A piece's own identity, which templates print as `{{piece.url}}` and `{{piece.code}}`. */
export interface PieceIdentity {
  /** The tracked URL: the service's public URL and `/r/<code>`. */
  url: string;
  /** The response code itself, for a promo code or a typed reference. */
  code: string;
}
