/** A record's values: `{ rep, prospect, fields }`, as validated against a template's inputs. */
export type RecordValue = string | boolean;
export interface PieceRecord {
  rep: Record<string, RecordValue | undefined>;
  prospect: Record<string, RecordValue | undefined>;
  fields: Record<string, RecordValue | undefined>;
}

/** What template text is rendered against: every declared input present, absent optional ones empty. */
export type MergeContext = {
  rep: Record<string, unknown>;
  prospect: Record<string, unknown>;
  fields: Record<string, unknown>;
};

/** A compiled piece of template text (Handlebars), rendered once per record. */
export type TextFn = (context: MergeContext) => string;
