import http from 'k6/http'

type Method = 'GET' | 'POST'

function pick<T>(list: readonly T[], i: number): T {
  return list[i % list.length] as T
}

enum Path {
  Home = '/',
  About = '/about',
}

export const options = { iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } } satisfies Record<string, unknown>

export default function () {
  const method: Method = 'GET'
  http.request(method, '__TARGET__' + pick([Path.Home, Path.About], __ITER))
}
