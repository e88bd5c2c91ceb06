export * from './exit-codes.ts'
export * from './summary.ts'
export * from './metrics-output.ts'
export * from './errors.ts'
