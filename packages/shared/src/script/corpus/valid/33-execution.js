import http from 'k6/http'
import exec from 'k6/execution'

export const options = { vus: 2, iterations: 2, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const { vu, scenario, instance } = exec
  http.get(`__TARGET__/?vu=${vu.idInTest}&iter=${scenario.iterationInTest}&active=${instance.vusActive}`)
  if (scenario.iterationInTest > 100) exec.test.abort('too many iterations')
}
