// File names the report reads and writes (a module of its own, so commands can name them without
// loading the report's code).
export const SUMMARY_FILE = 'summary.json';
export const ALERTS_FILE = 'alerts.csv';
export const REPORT_FILE = 'report.html';
