import http from 'k6/http'

class Client {
  #base
  constructor(base) {
    this.#base = base
  }
  get(path) {
    return http.get(this.#base + path)
  }
}

const client = new Client('__TARGET__')

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const paths = ['/a', '/b'].map((p) => p + '?q=' + (globalThis.__ITER ?? 0))
  for (const p of paths) client.get(p)
}
