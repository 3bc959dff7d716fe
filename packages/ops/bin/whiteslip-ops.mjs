#!/usr/bin/env node
// Runs the TypeScript CLI with tsx (no build step in this repo).
import { register } from "tsx/esm/api";
register();
await import("../src/cli.ts");
