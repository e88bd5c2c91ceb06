// An API flow with groups: create, read, update and delete one resource per iteration. Groups
// name the steps in the results (group_duration) and tag their requests.
import http from 'k6/http'
import { check, group, sleep } from 'k6'

const BASE_URL = __ENV.BASE_URL || 'https://quickpizza.grafana.com'

export const options = {
  vus: 2,
  iterations: 10,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'group_duration{group:::create}': ['p(95)<1000'], // groups are tagged "::name"
    http_req_duration: ['p(95)<800'],
  },
}

// Parameters shared by every request: JSON headers, and a `name` tag so that URLs with ids
// are reported as one entry instead of one per id.
const params = (name) => ({ headers: { 'Content-Type': 'application/json' }, tags: { name } })

export default function () {
  let id = `item-${__VU}-${__ITER}` // __VU and __ITER make the id unique per VU and iteration

  group('create', () => {
    const res = http.post(`${BASE_URL}/api/items`, JSON.stringify({ id, name: 'load test item' }), params('create item'))
    check(res, { 'created': (r) => r.status === 200 || r.status === 201 })
    // Use the id the API returns when it returns one.
    const body = res.headers['Content-Type'] && res.headers['Content-Type'].includes('json') ? res.json() : null
    if (body && body.id) id = String(body.id)
  })

  group('read', () => {
    const res = http.get(`${BASE_URL}/api/items/${id}`, params('get item'))
    check(res, { 'read ok': (r) => r.status === 200 })
  })

  group('update', () => {
    const res = http.put(`${BASE_URL}/api/items/${id}`, JSON.stringify({ name: 'renamed' }), params('update item'))
    check(res, { 'updated': (r) => r.status === 200 || r.status === 204 })
  })

  group('delete', () => {
    const res = http.del(`${BASE_URL}/api/items/${id}`, null, params('delete item'))
    check(res, { 'deleted': (r) => r.status === 200 || r.status === 204 })
  })

  sleep(0.5)
}
