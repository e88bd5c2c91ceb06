export * from './layout.ts'
export * from './limits.ts'
export * from './process.ts'
export * from './sandbox.ts'
