// Who answers SIGINT/SIGTERM. By default the CLI removes its temporary files and exits 128+n; a
// long-running command (map-namespaces --watch) takes the signals over to finish its output and
// exit 0. A second signal then kills the process as usual.
export type InterruptHandler = (signal: NodeJS.Signals) => void;

let current: InterruptHandler | undefined;

/** Routes the next SIGINT/SIGTERM to `handler`; the returned function gives them back. */
export function takeOverInterrupts(handler: InterruptHandler): () => void {
  current = handler;
  return () => {
    if (current === handler) current = undefined;
  };
}

export function interruptHandler(): InterruptHandler | undefined {
  return current;
}
