import http from 'k6/http'
import { check } from 'k6'
import type { Options } from 'k6/options'

interface Item {
  id: number
  name: string
}

export const options: Options = { iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function (): void {
  const item: Item = { id: __ITER, name: 'x' }
  const res = http.post('__TARGET__/items', JSON.stringify(item))
  check(res, { 'ok': (r) => r.status === 200 })
}
