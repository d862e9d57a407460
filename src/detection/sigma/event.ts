// What rules are evaluated on: a flat map of Sigma field names to text (numbers and booleans as
// their text, as Sigma compares them), or null for a field that is present but null.

export type FieldValue = string | null;

export interface SigmaEvent {
  /** Prefer a null-prototype object (see makeFields): field names come from rules and inputs. */
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** A raw log line: keyword searches look here instead of in the field values. */
  readonly message?: string | undefined;
}

/** The field's value; undefined when the event does not have it. */
export function fieldOf(event: SigmaEvent, name: string): FieldValue | undefined {
  return Object.hasOwn(event.fields, name) ? event.fields[name] : undefined;
}

export function makeFields(): Record<string, FieldValue> {
  return Object.create(null) as Record<string, FieldValue>;
}

/** A JSON scalar as Sigma text: numbers in decimal, booleans as true/false; undefined for objects and arrays. */
export function scalarText(value: unknown): FieldValue | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}
