export * from './locations.ts'
export * from './run.ts'
export * from './console.ts'
export * from './api.ts'
