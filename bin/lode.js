#!/usr/bin/env node
// Entry point: load the compiled CLI. Kept tiny so `lode --version` starts fast.
import { main } from '../dist/cli/main.js';
main(process.argv).then((code) => { process.exitCode = code; });
