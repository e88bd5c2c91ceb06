#!/usr/bin/env node
// Runs the TypeScript CLI without a build step: registers tsx's ESM loader (installed at the
// monorepo root), then imports the CLI's source (the packed CLI is built JavaScript: packages/sdk/scripts/pack.ts).
import { register } from 'tsx/esm/api'

register()
const { run } = await import('../src/main.ts')
await run()
