#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (run `npm run build` first).
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv);
