import http from 'k6/http'

// A 404 is expected here, so it must not count as a failed request.
http.setResponseCallback(http.expectedStatuses(200, 404))

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate==0'] } }

export default function () {
  http.get('__TARGET__/?status=404')
  http.get('__TARGET__/', { responseCallback: http.expectedStatuses({ min: 200, max: 299 }) })
}
