// expect: no-default-export 4:1
import http from 'k6/http'
export const options: Record<string, unknown> = {}
export function run(): void { http.get('http://x') }
