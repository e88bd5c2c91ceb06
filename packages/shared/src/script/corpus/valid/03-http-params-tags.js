import http from 'k6/http'

export const options = { iterations: 2, thresholds: { 'http_req_duration{name:home}': ['p(95)<2000'] } }

export default function () {
  http.get('__TARGET__/?x=1', { tags: { name: 'home' }, timeout: '5s', headers: { 'X-Test': '1' }, redirects: 0 })
}
