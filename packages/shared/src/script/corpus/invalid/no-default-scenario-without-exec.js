// expect: no-default-export 9:1
import http from 'k6/http'
export const options = {
  scenarios: {
    a: { executor: 'shared-iterations', exec: 'a' },
    b: { executor: 'shared-iterations' },
  },
}
export function a() { http.get('http://x') }
