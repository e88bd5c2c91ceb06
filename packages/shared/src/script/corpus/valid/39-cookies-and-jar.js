import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const jar = http.cookieJar()
  jar.set('__TARGET__', 'session', 'abc', { path: '/' })
  http.get('__TARGET__/', { cookies: { extra: 'yes' } })
  http.get('__TARGET__/', { jar: new http.CookieJar() })
}
