// The packed CLI's entry point (packages/sdk/scripts/pack.ts bundles it as dist/stampede.js).
import { run } from './main.ts'

await run()
