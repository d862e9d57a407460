// The Sigma events this tool derives from provenance: Sysmon for Linux's categories and field names
// (EventID 1 process_creation, 3 network_connection, 11 file_event), as SigmaHQ's Linux rules use them.

export const CATEGORIES = ['process_creation', 'file_event', 'network_connection'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The fields each category's events can have. A rule that needs another one can never fire. */
export const EVENT_FIELDS: Record<Category, readonly string[]> = {
  process_creation: ['Image', 'CommandLine', 'CurrentDirectory', 'ProcessId', 'ParentProcessId', 'ParentImage', 'ParentCommandLine', 'User'],
  file_event: ['TargetFilename', 'Image', 'ProcessId', 'User'],
  network_connection: ['Initiated', 'SourceIp', 'SourcePort', 'DestinationIp', 'DestinationPort', 'Protocol', 'Image', 'ProcessId', 'User'],
};

export function isCategory(value: string): value is Category {
  return (CATEGORIES as readonly string[]).includes(value);
}
