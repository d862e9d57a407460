// The run summary as the report reads it (summary.json, or `--json` output saved to a file):
// validated here, at the boundary. Loose: fields the report does not read pass through, and
// sections a command or an older version does not write are optional.
import { z } from 'zod';

const Counts = z.record(z.string(), z.number());

const Input = z.looseObject({
  path: z.string(),
  capture: z.string().optional(),
  bytes: z.number(),
  sha256: z.string(),
  gzip: z.boolean().optional(),
  layout: z.string().optional(),
  records: z.number(),
  invalid: z.number().optional(),
  truncated: z.looseObject({ line: z.number(), reason: z.string() }).nullish(),
});

const NetnsRow = z.looseObject({
  capture: z.string().optional(),
  netns: z.string(),
  processes: z.number(),
  svc: z.string(),
  pod: z.string().default(''),
  attribution: z.string(),
  candidates: z.string().default(''),
  evidence: z.string().default(''),
});

const TableRows = z.looseObject({
  file: z.string().nullable(),
  total: z.number(),
  written: z.number(),
  removed: Counts.default({}),
});

/** Pass 2's per-service activity (edges per time bucket); absent in summaries of older versions. */
const ActivityService = z.looseObject({
  svc: z.string(),
  edges: z.number(),
  first: z.number().nullable(),
  last: z.number().nullable(),
  buckets: z.array(z.number()),
});
export const ActivitySchema = z.looseObject({
  start: z.number().nullable(),
  end: z.number().nullable(),
  bucketSeconds: z.number().positive(),
  services: z.array(ActivityService),
});

const Rules = z.looseObject({
  loaded: z.number(),
  applied: z.number(),
  skipped: Counts.default({}),
  invalid: z.array(z.looseObject({ file: z.string(), reason: z.string() })).default([]),
});

const Alerts = z.looseObject({
  total: z.number(),
  byLevel: Counts.default({}),
  byService: Counts.default({}),
  byRule: Counts.default({}),
});

export const ReportSummarySchema = z.looseObject({
  command: z.string(),
  match: z.string().optional(),
  inputs: z.array(Input).default([]),
  cluster: z.looseObject({ source: z.string(), services: z.number(), pods: z.number(), endpointSlices: z.number() }).optional(),
  records: Counts.default({}),
  rows: z.record(z.string(), TableRows).default({}),
  perService: z.looseObject({ processes: Counts.default({}), artifacts: Counts.default({}) }).default({ processes: {}, artifacts: {} }),
  attribution: z.looseObject({ processes: Counts.default({}), artifacts: Counts.default({}) }).optional(),
  unattributed: z.looseObject({ processes: z.number(), artifacts: z.number() }).optional(),
  netns: z.array(NetnsRow).default([]),
  filters: z.record(z.string(), z.unknown()).optional(),
  flows: z.looseObject({ file: z.string().nullable(), rows: z.number() }).optional(),
  rejected: z.looseObject({ file: z.string().nullable(), count: z.number() }).optional(),
  warnings: z.array(z.string()).default([]),
  notes: z.array(z.string()).default([]),
  elapsedSeconds: z.number().optional(),
  megabytesPerSecond: z.number().optional(),
  peakRssBytes: z.number().optional(),
  activity: ActivitySchema.optional(),
  rules: Rules.optional(),
  alerts: Alerts.optional(),
});

export type ReportSummary = z.infer<typeof ReportSummarySchema>;
export type Activity = z.infer<typeof ActivitySchema>;
export type NetnsRow = z.infer<typeof NetnsRow>;

/** `where: path.to.field: message` for the first problem, or the parsed summary. */
export function parseReportSummary(json: unknown, where: string): ReportSummary | string {
  const parsed = ReportSummarySchema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(top level)';
  return `${where}: ${path}: ${issue.message}; expected the summary clarion-enrich writes (summary.json, or --json output)`;
}
