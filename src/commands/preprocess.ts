import type { Command } from 'commander';

export function registerPreprocess(program: Command): void {
  void program;
}
